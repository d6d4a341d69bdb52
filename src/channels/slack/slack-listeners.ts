/**
 * What the bot does with each kind of Slack delivery. Every listener acknowledges first
 * (Slack's 3-second deadline never waits on the database, AWS or an LLM), then claims the
 * delivery in the shared ledger so a retry — on this instance or another, before or after
 * a restart — is answered once, then asks the engine and posts the rendered reply.
 */
import type { AllMiddlewareArgs, App, BlockAction, RespondFn, SlackActionMiddlewareArgs, SlackCommandMiddlewareArgs, webApi } from '@slack/bolt';

type WebClient = webApi.WebClient;
import type { Reply } from '../../core/reply.js';
import type { Logger } from '../../logger.js';
import type { DeliveryLedger } from '../../ports.js';
import { renderSlackHomeView, renderSlackMessage } from '../../render/slack-blocks.js';
import { escapeSlack } from '../../render/slack-text.js';
import type { WorkQueue } from '../work-queue.js';
import type { AnswerHooks } from '../../app/ai/agent.js';
import { answerInThread } from './slack-ai.js';
import { type AssistantQuestion, createFinOpsAssistant } from './slack-assistant.js';
import { slackErrorCode } from './slack-errors.js';
import { answerPrivately, respondOrLog } from './slack-replies.js';
import { ANOMALY_ACTIONS, type AnomalyDecision } from '../../app/anomalies/present.js';
import type { DecisionResult } from '../../app/anomalies/monitor.js';
import { renderAlertMessage } from './slack-alerts.js';

/** The slash command this app registers (the manifest declares the same). */
export const SLASH_COMMAND = '/finops';

/** The button under an ephemeral answer that posts it for the whole channel. */
export const SHARE_ACTION_ID = 'share_reply';

/** The Events API events the listeners handle (the manifest subscribes to the same). */
export const SUBSCRIBED_EVENTS = [
  'app_mention',
  'message.im',
  'message.channels',
  'message.groups',
  'app_home_opened',
  'assistant_thread_started',
  'assistant_thread_context_changed',
] as const;

/** Message subtypes that carry a question: a plain message, one with a file, a thread reply sent to the channel too. */
const QUESTION_SUBTYPES: ReadonlySet<string | undefined> = new Set([undefined, 'file_share', 'thread_broadcast']);

/** Longest command text a Share button can carry (Slack allows 2,000 characters in a value). */
const MAX_SHARE_VALUE = 1_900;

/** Who is asking, as the engine wants to know it. */
export interface SlackRequestContext {
  readonly channel: 'slack';
  readonly userId?: string;
  readonly conversationId?: string;
  /** The thread an AI conversation is remembered by. */
  readonly threadId?: string;
}

/** A direct message's main view, as a thread: follow-ups there share one memory. */
export const DIRECT_MESSAGE_MAIN = 'main';

/** A message written to the bot, as the conversational listeners answer it. */
interface IncomingMessage {
  readonly channel: string;
  readonly ts: string;
  readonly user: string | undefined;
  readonly text: string;
  /** Where the answer goes; undefined for a direct message's main view. */
  readonly threadTs: string | undefined;
  /** The thread the conversation is remembered by. */
  readonly memoryThread: string;
  readonly teamId: string | undefined;
  /** Help and errors only to the asker (in channels). */
  readonly privateErrors: boolean;
}

/** What the Slack channel needs from the engine. */
export interface SlackEngine {
  /** Answers a line; `hooks` receive an AI answer's status and text as it is written. */
  handle(line: string, context: SlackRequestContext, hooks?: AnswerHooks): Promise<Reply>;
  /** Whether a thread reply continues an AI conversation of the bot's (answered without a mention). */
  continuesConversation(context: SlackRequestContext): Promise<boolean>;
  /** The App Home dashboard: this month's spend, top teams, forecast and freshness. */
  dashboard(context: SlackRequestContext): Promise<readonly Reply[]>;
}

/** What the Slack channel needs to take decisions on anomaly alerts. */
export interface SlackAnomalyDesk {
  decide(request: { anomalyId: number; decision: AnomalyDecision; userId: string; conversation: { platform: 'slack'; conversationId: string } }): Promise<DecisionResult>;
  /** The clicked alert was redrawn at `version` (so a newer update that landed first is drawn again). */
  redrawn(anomalyId: number, conversation: { platform: 'slack'; conversationId: string }, version: number): Promise<void>;
}

interface ListenerDeps {
  readonly engine: SlackEngine;
  /** Takes the clicks on anomaly alerts' buttons; absent, the buttons say they cannot be used. */
  readonly anomalies?: SlackAnomalyDesk | undefined;
  readonly deliveries: DeliveryLedger;
  readonly logger: Logger;
  /** Where the work after the acknowledgement waits its turn: slash commands, clicks, App Home. */
  readonly answers: WorkQueue;
  /**
   * Mentions, direct messages and thread replies, which may wait a minute on an AI model:
   * a queue of their own, so they never hold back a slash command.
   */
  readonly conversations: WorkQueue;
}

/** Registers the command, button, mention, DM and App Home listeners on `app`. */
export function registerSlackListeners(app: App, deps: ListenerDeps): void {
  const log = deps.logger.child({ component: 'slack' });

  /** True the first time a delivery is seen; a ledger that is down lets it through (the engine will say why it can't answer). */
  const firstDelivery = async (key: string): Promise<boolean> => {
    try {
      const first = await deps.deliveries.claim(key);
      if (!first) log.info({ delivery: key }, 'ignored a repeated Slack delivery');
      return first;
    } catch (error) {
      log.warn({ err: error, delivery: key }, 'could not record a Slack delivery; answering it anyway');
      return true;
    }
  };

  app.command(SLASH_COMMAND, async ({ command, ack, respond, client }: SlackCommandMiddlewareArgs & AllMiddlewareArgs) => {
    await ack();
    await deps.answers.run(async () => {
      if (!(await firstDelivery(`slack:command:${command.trigger_id}`))) return;
      const text = unescapeSlack(command.text);
      const reply = await deps.engine.handle(text, { channel: 'slack', userId: command.user_id, conversationId: command.channel_id });
      const shareable = reply.kind === 'answer' && !reply.oneOff && text.length <= MAX_SHARE_VALUE;
      const message = renderSlackMessage(reply, shareable ? { buttons: [{ text: 'Share in channel', actionId: SHARE_ACTION_ID, value: text, style: 'primary' }] } : {});
      await answerPrivately(respond, client, { channel: command.channel_id, user: command.user_id, threadTs: undefined }, message, log);
    });
  });

  app.action(SHARE_ACTION_ID, async ({ ack, body, action, respond }: SlackActionMiddlewareArgs & AllMiddlewareArgs) => {
    await ack();
    if (body.type !== 'block_actions' || action.type !== 'button') return;
    await deps.answers.run(() => shareReply(body, action.value ?? '', respond));
  });

  const decisions = new Map<string, AnomalyDecision>(Object.entries(ANOMALY_ACTIONS).map(([decision, actionId]) => [actionId, decision as AnomalyDecision]));
  app.action(new RegExp(`^(${[...decisions.keys()].join('|')})$`), async ({ ack, body, action, respond }: SlackActionMiddlewareArgs & AllMiddlewareArgs) => {
    await ack();
    if (body.type !== 'block_actions' || action.type !== 'button') return;
    await deps.answers.run(() => decideAnomaly(body, decisions.get('action_id' in action ? action.action_id : '')!, action.value ?? '', respond));
  });

  /** A click on an alert's button: the decision is stored, and the alert redrawn in place. */
  const decideAnomaly = async (body: BlockAction, decision: AnomalyDecision, value: string, respond: RespondFn): Promise<void> => {
    const anomalyId = Number(value);
    const conversationId = body.channel?.id;
    const privately = (text: string) => respondOrLog(respond, { response_type: 'ephemeral', replace_original: false, text }, log);
    if (!deps.anomalies || !Number.isSafeInteger(anomalyId) || anomalyId <= 0 || !conversationId) {
      await privately('This button cannot be used here.');
      return;
    }
    let result: DecisionResult;
    try {
      result = await deps.anomalies.decide({ anomalyId, decision, userId: body.user.id, conversation: { platform: 'slack', conversationId } });
    } catch (error) {
      log.error({ err: error, anomaly: anomalyId, decision }, 'could not record an anomaly decision');
      await privately('I could not record that just now (the details are logged); please try the button again in a minute.');
      return;
    }
    if (!result.ok) {
      await privately(result.reason);
      return;
    }
    await respondOrLog(respond, { replace_original: true, ...renderAlertMessage(result.message) }, log);
    await deps.anomalies.redrawn(anomalyId, { platform: 'slack', conversationId }, result.version).catch((error: unknown) => {
      log.warn({ err: error, anomaly: anomalyId }, 'could not note the redrawn anomaly alert; the next update redraws it');
    });
    if (!result.changed) await privately('That was already recorded; nothing changed.');
  };

  /**
   * Posts an answer for the whole channel and removes the private copy. One share per
   * private answer: a second click is told so; a share that posted nothing can be retried.
   */
  const shareReply = async (body: BlockAction, text: string, respond: RespondFn): Promise<void> => {
    const container = body.container as { message_ts?: string } | undefined;
    const key = `slack:share:${body.channel?.id ?? ''}:${container?.message_ts ?? body.trigger_id}`;
    if (!(await firstDelivery(key))) {
      await respondOrLog(respond, { response_type: 'ephemeral', replace_original: false, text: 'This answer has already been shared in the channel.' }, log);
      return;
    }
    const reply = await deps.engine.handle(text, { channel: 'slack', userId: body.user.id, conversationId: body.channel?.id });
    const shared =
      reply.kind === 'answer' &&
      (await respondOrLog(
        respond,
        { response_type: 'in_channel', replace_original: false, ...renderSlackMessage(reply, { note: `Shared by <@${body.user.id}> · \`${SLASH_COMMAND} ${escapeSlack(text).replaceAll('`', "'")}\`` }) },
        log,
      ));
    if (shared) {
      await respondOrLog(respond, { delete_original: true }, log);
      return;
    }
    await deps.deliveries.release(key).catch((error: unknown) => log.warn({ err: error, delivery: key }, 'could not release a Slack delivery'));
    if (reply.kind !== 'answer') await respondOrLog(respond, { response_type: 'ephemeral', replace_original: false, ...renderSlackMessage(reply) }, log);
  };

  /**
   * Answers a message written to the bot — a mention, a direct message, a thread reply, a
   * message in an assistant thread — once, in its thread, remembered by `memoryThread`.
   */
  const answerMessage = async (client: WebClient, message: IncomingMessage): Promise<void> => {
    if (!(await firstDelivery(`slack:message:${message.channel}:${message.ts}`))) return;
    const request: SlackRequestContext = { channel: 'slack', ...(message.user ? { userId: message.user } : {}), conversationId: message.channel, threadId: message.memoryThread };
    const line = unescapeSlack(stripLeadingMentions(message.text));
    await answerInThread(
      client,
      {
        target: { channel: message.channel, user: message.user, threadTs: message.threadTs },
        teamId: message.teamId,
        privateErrors: message.privateErrors,
        ask: (hooks) => deps.engine.handle(line, request, hooks),
      },
      log,
    );
  };

  app.event('app_mention', async ({ event, client, context }) => {
    // Editing a message sends the mention again, with a new event id: one answer per message.
    if ('edited' in event && event.edited) return;
    const threadTs = event.thread_ts ?? event.ts;
    // Answers go in the thread for everyone; usage help and errors only to the asker.
    await deps.conversations.run(() =>
      answerMessage(client, { channel: event.channel, ts: event.ts, user: event.user, text: event.text ?? '', threadTs, memoryThread: threadTs, teamId: context.teamId, privateErrors: true }),
    );
  });

  app.message(async ({ message, client, context }) => {
    // Edits, joins and bots' posts (our own included) are not questions.
    if (!QUESTION_SUBTYPES.has(message.subtype) || ('bot_id' in message && message.bot_id)) return;
    if (!('user' in message) || !message.user) return;
    const threadTs = 'thread_ts' in message && typeof message.thread_ts === 'string' ? message.thread_ts : undefined;
    const text = ('text' in message ? message.text : undefined) ?? '';
    const incoming = { channel: message.channel, ts: message.ts, user: message.user, text, threadTs, teamId: context.teamId };
    if (message.channel_type === 'channel' || message.channel_type === 'group') {
      // A reply in a thread where the bot is in an AI conversation; mentions come as app_mention.
      if (threadTs === undefined || (context.botUserId && text.includes(`<@${context.botUserId}>`))) return;
      const request: SlackRequestContext = { channel: 'slack', userId: message.user, conversationId: message.channel, threadId: threadTs };
      await deps.conversations.run(async () => {
        if (!(await deps.engine.continuesConversation(request).catch(() => false))) return;
        await answerMessage(client, { ...incoming, memoryThread: threadTs, privateErrors: true });
      });
      return;
    }
    if (message.channel_type !== 'im') return;
    await deps.conversations.run(() => answerMessage(client, { ...incoming, memoryThread: threadTs ?? DIRECT_MESSAGE_MAIN, privateErrors: false }));
  });

  // Messages in assistant threads come here rather than to the direct-message listener.
  const assistant = createFinOpsAssistant(
    (question: AssistantQuestion, client: WebClient) =>
      deps.conversations.run(() => answerMessage(client, { ...question, memoryThread: question.threadTs, privateErrors: false })),
    log,
  ).getMiddleware();
  // Bolt's Assistant throws on a message whose thread fields are empty; such a message is an ordinary one.
  app.use(async (args) => {
    try {
      await assistant(args);
    } catch (error) {
      if ((error as { code?: string }).code !== 'slack_bolt_assistant_missing_property_error') throw error;
      await args.next();
    }
  });

  app.event('app_home_opened', async ({ event, client }) => {
    if (event.tab !== 'home') return;
    await deps.answers.run(() => publishHome(client, event.user));
  });

  const publishHome = async (client: WebClient, user: string): Promise<void> => {
    const context: SlackRequestContext = { channel: 'slack', userId: user };
    const view = renderSlackHomeView(await deps.engine.dashboard(context), {
      footer: `Ask me in plain words in a direct message or by mentioning me (\`@FinOps why did our spend go up last week?\`), or type \`${SLASH_COMMAND} help\` for the commands.`,
    });
    try {
      await client.views.publish({ user_id: user, view });
    } catch (error) {
      log.warn({ slackError: slackErrorCode(error), method: 'views.publish', user }, 'could not publish the App Home');
    }
  };
}

/** Removes the `<@U…>` mentions a message starts with (the bot's own, in a mention). */
export function stripLeadingMentions(text: string): string {
  return text.replace(/^\s*(?:<@[UW][A-Z0-9]+(?:\|[^>]*)?>[\s,:]*)+/, '').trim();
}

/** Slack escapes `&`, `<` and `>` in message and command text. */
export function unescapeSlack(text: string): string {
  return text.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');
}

