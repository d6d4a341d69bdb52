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
import type { WorkQueue } from '../work-queue.js';
import { describeSlackFailure, slackErrorCode } from './slack-errors.js';

/** The slash command this app registers (the manifest declares the same). */
export const SLASH_COMMAND = '/finops';

/** The button under an ephemeral answer that posts it for the whole channel. */
export const SHARE_ACTION_ID = 'share_reply';

/** The Events API events the listeners handle (the manifest subscribes to the same). */
export const SUBSCRIBED_EVENTS = ['app_mention', 'message.im', 'app_home_opened'] as const;

/** Longest command text a Share button can carry (Slack allows 2,000 characters in a value). */
const MAX_SHARE_VALUE = 1_900;

/** Who is asking, as the engine wants to know it. */
export interface SlackRequestContext {
  readonly channel: 'slack';
  readonly userId?: string;
  readonly conversationId?: string;
}

/** What the Slack channel needs from the engine. */
export interface SlackEngine {
  handle(line: string, context: SlackRequestContext): Promise<Reply>;
  /** The App Home dashboard: this month's spend, top teams, forecast and freshness. */
  dashboard(context: SlackRequestContext): Promise<readonly Reply[]>;
}

interface ListenerDeps {
  readonly engine: SlackEngine;
  readonly deliveries: DeliveryLedger;
  readonly logger: Logger;
  /** Where the work after the acknowledgement waits its turn. */
  readonly answers: WorkQueue;
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

  app.command(SLASH_COMMAND, async ({ command, ack, respond }: SlackCommandMiddlewareArgs & AllMiddlewareArgs) => {
    await ack();
    await deps.answers.run(async () => {
      if (!(await firstDelivery(`slack:command:${command.trigger_id}`))) return;
      const text = unescapeSlack(command.text);
      const reply = await deps.engine.handle(text, { channel: 'slack', userId: command.user_id, conversationId: command.channel_id });
      const shareable = reply.kind === 'answer' && text.length <= MAX_SHARE_VALUE;
      const message = renderSlackMessage(reply, shareable ? { buttons: [{ text: 'Share in channel', actionId: SHARE_ACTION_ID, value: text, style: 'primary' }] } : {});
      await respondOrLog(respond, { response_type: 'ephemeral', ...message }, log);
    });
  });

  app.action(SHARE_ACTION_ID, async ({ ack, body, action, respond }: SlackActionMiddlewareArgs & AllMiddlewareArgs) => {
    await ack();
    if (body.type !== 'block_actions' || action.type !== 'button') return;
    await deps.answers.run(() => shareReply(body, action.value ?? '', respond));
  });

  const shareReply = async (body: BlockAction, text: string, respond: RespondFn): Promise<void> => {
    const container = body.container as { message_ts?: string } | undefined;
    if (!(await firstDelivery(`slack:share:${body.channel?.id ?? ''}:${container?.message_ts ?? body.trigger_id}`))) return;
    const reply = await deps.engine.handle(text, { channel: 'slack', userId: body.user.id, conversationId: body.channel?.id });
    if (reply.kind !== 'answer') {
      await respondOrLog(respond, { response_type: 'ephemeral', replace_original: false, ...renderSlackMessage(reply) }, log);
      return;
    }
    const shared = renderSlackMessage(reply, { note: `Shared by <@${body.user.id}> · \`${SLASH_COMMAND} ${escapeSlack(text)}\`` });
    if (await respondOrLog(respond, { response_type: 'in_channel', replace_original: false, ...shared }, log)) {
      await respondOrLog(respond, { delete_original: true }, log);
    }
  };

  app.event('app_mention', ({ event, body, client }) => deps.answers.run(async () => {
    if (!(await firstDelivery(`slack:event:${body.event_id}`))) return;
    const text = unescapeSlack(stripLeadingMentions(event.text));
    const context: SlackRequestContext = { channel: 'slack', ...(event.user ? { userId: event.user } : {}), conversationId: event.channel };
    const reply = await deps.engine.handle(text, context);
    const threadTs = event.thread_ts ?? event.ts;
    // Usage help and errors go only to the asker; answers go in the thread for everyone.
    if (reply.kind !== 'answer' && event.user) {
      await postEphemeral(client, { channel: event.channel, user: event.user, threadTs }, reply, log);
    } else {
      await postInThread(client, { channel: event.channel, user: event.user, threadTs }, reply, log);
    }
  }));

  app.message(async ({ message, body, client }) => {
    // Direct messages only; edits, joins and the bot's own posts are not questions.
    if (message.channel_type !== 'im' || message.subtype !== undefined || 'bot_id' in message) return;
    const eventId = (body as { event_id?: string }).event_id ?? `${message.channel}:${message.ts}`;
    await deps.answers.run(async () => {
      if (!(await firstDelivery(`slack:event:${eventId}`))) return;
      const text = unescapeSlack(stripLeadingMentions(message.text ?? ''));
      const reply = await deps.engine.handle(text, { channel: 'slack', userId: message.user, conversationId: message.channel });
      await postInThread(client, { channel: message.channel, user: message.user, threadTs: message.thread_ts }, reply, log);
    });
  });

  app.event('app_home_opened', async ({ event, client }) => {
    if (event.tab !== 'home') return;
    await deps.answers.run(() => publishHome(client, event.user));
  });

  const publishHome = async (client: WebClient, user: string): Promise<void> => {
    const context: SlackRequestContext = { channel: 'slack', userId: user };
    const view = renderSlackHomeView(await deps.engine.dashboard(context), {
      footer: `Ask me anything with \`${SLASH_COMMAND} help\`, or mention me in a channel: \`@FinOps cost 7d by service\`.`,
    });
    try {
      await client.views.publish({ user_id: user, view });
    } catch (error) {
      log.warn({ slackError: slackErrorCode(error), method: 'views.publish', user }, 'could not publish the App Home');
    }
  };
}

interface ReplyTarget {
  readonly channel: string;
  readonly user: string | undefined;
  readonly threadTs: string | undefined;
}

/** Posts `reply` in the channel (in the thread when there is one); a refusal is explained to the asker. */
async function postInThread(client: WebClient, target: ReplyTarget, reply: Reply, log: Logger): Promise<void> {
  try {
    await client.chat.postMessage({ channel: target.channel, ...(target.threadTs ? { thread_ts: target.threadTs } : {}), ...renderSlackMessage(reply) });
  } catch (error) {
    await explainFailure(client, target, error, 'chat.postMessage', log);
  }
}

/** Shows `reply` to the asker only. */
async function postEphemeral(client: WebClient, target: ReplyTarget & { user: string }, reply: Reply, log: Logger): Promise<void> {
  try {
    await client.chat.postEphemeral({ channel: target.channel, user: target.user, ...(target.threadTs ? { thread_ts: target.threadTs } : {}), ...renderSlackMessage(reply) });
  } catch (error) {
    await explainFailure(client, target, error, 'chat.postEphemeral', log);
  }
}

/**
 * Logs a refused post and tells the asker why in a direct message: the channel that
 * refused the reply would refuse the explanation too.
 */
async function explainFailure(client: WebClient, target: ReplyTarget, error: unknown, method: string, log: Logger): Promise<void> {
  const code = slackErrorCode(error);
  log.warn({ slackError: code, method, channel: target.channel }, 'Slack refused a reply');
  if (!target.user || target.channel === target.user) return;
  try {
    await client.chat.postMessage({ channel: target.user, text: describeSlackFailure(code, target.channel) });
  } catch (second) {
    log.warn({ slackError: slackErrorCode(second), method: 'chat.postMessage', channel: 'direct message' }, 'could not tell the user why their reply failed');
  }
}

/** Sends through a `response_url`; returns false (and logs) when Slack refuses it, which only happens once the URL has expired or been used up. */
async function respondOrLog(respond: RespondFn, message: Parameters<RespondFn>[0], log: Logger): Promise<boolean> {
  try {
    await respond(message);
    return true;
  } catch (error) {
    log.warn({ err: error instanceof Error ? error.message : String(error), method: 'response_url' }, 'could not answer through the response URL');
    return false;
  }
}

/** Removes the `<@U…>` mentions a message starts with (the bot's own, in a mention). */
export function stripLeadingMentions(text: string): string {
  return text.replace(/^\s*(?:<@[UW][A-Z0-9]+(?:\|[^>]*)?>[\s,:]*)+/, '').trim();
}

/** Slack escapes `&`, `<` and `>` in message and command text. */
export function unescapeSlack(text: string): string {
  return text.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');
}

function escapeSlack(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}
