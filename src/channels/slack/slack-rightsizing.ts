/**
 * Approve / Reject on rightsizing recommendations in Slack (and Mark applied on approved ones
 * the bot does not change itself). Approve and Mark applied decide at once; Reject
 * opens a modal asking for the reason, and the decision is taken when it is submitted (a
 * refusal shows in the modal). Either way the clicked message is redrawn in place through
 * its `response_url` — the decided recommendation shows who decided and when, its buttons
 * gone — and whatever the clicker alone should know (a refusal, "already decided") comes
 * as an ephemeral message. User groups are read for the approver check with
 * `usergroups.users.list`.
 */
import type { AllMiddlewareArgs, App, BlockAction, RespondFn, SlackActionMiddlewareArgs, SlackViewMiddlewareArgs, webApi } from '@slack/bolt';
import { FinOpsError } from '../../core/errors.js';
import { plainMentions, type Reply } from '../../core/reply.js';
import type { Logger } from '../../logger.js';
import type { ApproverDirectory, SourceMessage } from '../../ports.js';
import { renderSlackMessage } from '../../render/slack-blocks.js';
import { escapeSlack } from '../../render/slack-text.js';
import type { DeskResult, RightsizingDecision } from '../../app/rightsizing/desk.js';
import { MAX_REASON_LENGTH } from '../../app/rightsizing/desk.js';
import { parseButtonValue, RIGHTSIZING_ACTIONS } from '../../app/rightsizing/present.js';
import type { WorkQueue } from '../work-queue.js';
import { slackErrorCode } from './slack-errors.js';
import { respondOrLog } from './slack-replies.js';

/** The modal a rejection's reason is typed in. */
export const REJECT_MODAL_ID = 'rightsizing_reject_reason';
const REASON_BLOCK = 'reason';
const REASON_INPUT = 'reason_text';
/** How long a reject form's submission waits for the decision before closing (Slack allows 3 seconds). */
const MODAL_ANSWER_MS = 2_000;
/** How long Reject waits for the approver check before opening the form anyway. */
const CHECK_BEFORE_MODAL_MS = 1_500;
const REDRAW_FAILED = 'Your decision is recorded, but I could not redraw the list just now; ask `rightsizing` again to see it.';

/** What the Slack channel needs to take decisions on recommendations. */
export interface SlackRightsizingDesk {
  decide(request: { id: number; decision: RightsizingDecision; userId: string; reason?: string | undefined; source: SourceMessage }): Promise<DeskResult>;
  /** Whether `userId` could decide recommendation `id` now (checked before the reason is asked for). */
  check(id: number, userId: string, conversationId: string | undefined): Promise<{ ok: true; summary: string } | { ok: false; reason: string }>;
  /** The list the button was in (`scope`: a team, or '*'), as it reads now for `conversationId`. */
  view(scope: string, conversationId: string | undefined): Promise<Reply>;
}

interface RightsizingListenerDeps {
  readonly desk: SlackRightsizingDesk | undefined;
  readonly logger: Logger;
  readonly answers: WorkQueue;
  /** Posts to a `response_url` (the bot's fetch, with its deadline). */
  readonly fetch: (url: string, init: RequestInit) => Promise<Response>;
}

/** What the reject modal carries back. */
interface ModalMetadata {
  readonly id: number;
  readonly scope: string;
  readonly channel: string | undefined;
  readonly messageTs: string | undefined;
  readonly responseUrl: string | undefined;
}

/** Registers the Approve and Reject buttons and the reject modal on `app`. */
export function registerRightsizingListeners(app: App, deps: RightsizingListenerDeps): void {
  const log = deps.logger.child({ component: 'slack' });

  for (const decision of ['approve', 'applied'] as const) {
    app.action(RIGHTSIZING_ACTIONS[decision], async ({ ack, body, action, respond }: SlackActionMiddlewareArgs & AllMiddlewareArgs) => {
      await ack();
      if (body.type !== 'block_actions' || action.type !== 'button') return;
      await deps.answers.run(() => decideAtOnce(body, decision, action.value ?? '', respond));
    });
  }

  app.action(RIGHTSIZING_ACTIONS.reject, async ({ ack, body, action, respond, client }: SlackActionMiddlewareArgs & AllMiddlewareArgs) => {
    await ack();
    if (body.type !== 'block_actions' || action.type !== 'button') return;
    // The trigger id is good for 3 seconds: the modal opens before anything else waits.
    await openRejectModal(client, body, action.value ?? '', respond);
  });

  app.view(REJECT_MODAL_ID, async ({ ack, body, view }: SlackViewMiddlewareArgs & AllMiddlewareArgs) => {
    const metadata = readMetadata(view.private_metadata);
    const reason = view.state.values[REASON_BLOCK]?.[REASON_INPUT]?.value?.trim() ?? '';
    if (!metadata || !deps.desk) {
      await ack({ response_action: 'errors', errors: { [REASON_BLOCK]: 'This recommendation cannot be decided here.' } });
      return;
    }
    if (reason === '') {
      await ack({ response_action: 'errors', errors: { [REASON_BLOCK]: 'Say why, so the team knows.' } });
      return;
    }
    // Decided while the modal waits, so a refusal shows in it; a decision slower than Slack's
    // 3 seconds allow closes the modal first and answers under the list instead.
    const deciding = deps.desk
      .decide({ id: metadata.id, decision: 'reject', userId: body.user.id, reason, source: sourceOf(metadata.channel, metadata.messageTs) })
      .catch((error: unknown): DeskResult => {
        log.error({ err: error, recommendation: metadata.id }, 'could not record a rightsizing rejection');
        return { ok: false, reason: 'I could not record that just now (the details are logged); please try again in a minute.' };
      });
    const quick = await within(deciding, MODAL_ANSWER_MS);
    if (quick && !quick.ok) {
      await ack({ response_action: 'errors', errors: { [REASON_BLOCK]: plain(quick.reason) } });
      return;
    }
    await ack();
    const result = quick ?? (await deciding);
    await deps.answers.run(() => (result.ok ? redraw(metadata, result.changed ? undefined : result.note) : tell(metadata, result.reason)));
  });

  /** Approve, or Mark applied: decided on the click, the list redrawn in place. */
  const decideAtOnce = async (body: BlockAction, decision: 'approve' | 'applied', value: string, respond: RespondFn): Promise<void> => {
    const button = parseButtonValue(value);
    const privately = (text: string) => tellClicker(respond, text, log);
    if (!deps.desk || !button) {
      await privately('This button cannot be used here.');
      return;
    }
    const container = body.container as { message_ts?: string } | undefined;
    let result: DeskResult;
    try {
      result = await deps.desk.decide({ id: button.id, decision, userId: body.user.id, source: sourceOf(body.channel?.id, container?.message_ts) });
    } catch (error) {
      log.error({ err: error, recommendation: button.id, decision }, 'could not record a rightsizing decision');
      await privately('I could not record that just now (the details are logged); please try the button again in a minute.');
      return;
    }
    if (!result.ok) {
      await privately(result.reason);
      return;
    }
    const view = await viewOrLog(button.scope, body.channel?.id);
    if (view) await respondOrLog(respond, { replace_original: true, ...renderSlackMessage(view) }, log);
    else await privately(REDRAW_FAILED);
    if (!result.changed) await privately(result.note ?? 'That was already recorded; nothing changed.');
    else if (result.note) await privately(result.note);
  };

  const openRejectModal = async (client: webApi.WebClient, body: BlockAction, value: string, respond: RespondFn): Promise<void> => {
    const button = parseButtonValue(value);
    const privately = (text: string) => tellClicker(respond, text, log);
    if (!deps.desk || !button) {
      await privately('This button cannot be used here.');
      return;
    }
    // The trigger id lasts 3 seconds: a check slower than a second and a half opens the form
    // anyway (the submission is checked again).
    const checking = deps.desk.check(button.id, body.user.id, body.channel?.id).catch((error: unknown) => {
      log.warn({ err: error, recommendation: button.id }, 'could not check a rightsizing rejection before asking for the reason');
      return undefined;
    });
    const check = await within(checking, CHECK_BEFORE_MODAL_MS);
    if (check && !check.ok) {
      await privately(check.reason);
      return;
    }
    const container = body.container as { message_ts?: string } | undefined;
    const metadata: ModalMetadata = { id: button.id, scope: button.scope, channel: body.channel?.id, messageTs: container?.message_ts, responseUrl: body.response_url };
    try {
      await client.views.open({ trigger_id: body.trigger_id, view: rejectModal(check?.summary ?? 'Rejecting a rightsizing recommendation.', metadata) });
    } catch (error) {
      log.warn({ slackError: slackErrorCode(error), method: 'views.open' }, 'could not open the rejection modal');
      await privately('I could not open the form for the reason (Slack allows 3 seconds); please click Reject again.');
    }
  };

  /** Says something to the clicker only, under the list the modal was opened from. */
  const tell = async (metadata: ModalMetadata, text: string): Promise<void> => {
    if (!metadata.responseUrl) return;
    await deps
      .fetch(metadata.responseUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ response_type: 'ephemeral', replace_original: false, text: escapeSlack(plainMentions(text)) }) })
      .catch((error: unknown) => log.warn({ err: error instanceof Error ? error.message : String(error), method: 'response_url' }, 'could not answer a rightsizing rejection'));
  };

  /** The list as it reads now; undefined (logged) when it cannot be read, the decision being stored already. */
  const viewOrLog = async (scope: string, conversationId: string | undefined): Promise<Reply | undefined> => {
    try {
      return await deps.desk!.view(scope, conversationId);
    } catch (error) {
      log.warn({ err: error, scope }, 'could not redraw the rightsizing list after a decision');
      return undefined;
    }
  };

  /** Redraws the message the modal was opened from, through its `response_url`. */
  const redraw = async (metadata: ModalMetadata, note: string | undefined): Promise<void> => {
    if (!deps.desk || !metadata.responseUrl) return;
    const post = async (body: object) => {
      try {
        const response = await deps.fetch(metadata.responseUrl!, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
        if (!response.ok) log.warn({ status: response.status, method: 'response_url' }, 'could not redraw the rightsizing message');
      } catch (error) {
        log.warn({ err: error instanceof Error ? error.message : String(error), method: 'response_url' }, 'could not redraw the rightsizing message');
      }
    };
    const view = await viewOrLog(metadata.scope, metadata.channel);
    await post(view ? { replace_original: true, ...renderSlackMessage(view) } : { response_type: 'ephemeral', replace_original: false, text: REDRAW_FAILED });
    if (note) await post({ response_type: 'ephemeral', replace_original: false, text: escapeSlack(note) });
  };
}

/** The modal asking why a recommendation is rejected. */
function rejectModal(summary: string, metadata: ModalMetadata): webApi.ViewsOpenArguments['view'] {
  return {
    type: 'modal',
    callback_id: REJECT_MODAL_ID,
    private_metadata: JSON.stringify(metadata),
    title: { type: 'plain_text', text: 'Reject recommendation' },
    submit: { type: 'plain_text', text: 'Reject' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: escapeSlack(summary).slice(0, 2_900) } },
      {
        type: 'input',
        block_id: REASON_BLOCK,
        label: { type: 'plain_text', text: 'Why not?' },
        element: { type: 'plain_text_input', action_id: REASON_INPUT, multiline: true, min_length: 3, max_length: MAX_REASON_LENGTH, placeholder: { type: 'plain_text', text: 'e.g. peak season: needs the headroom until January' } },
      },
    ],
  };
}

function readMetadata(text: string): ModalMetadata | undefined {
  try {
    const parsed = JSON.parse(text) as Partial<ModalMetadata>;
    return typeof parsed.id === 'number' && typeof parsed.scope === 'string' ? (parsed as ModalMetadata) : undefined;
  } catch {
    return undefined;
  }
}

/** Tells only the person who clicked, through the click's `response_url` (mentions and bold rendered). */
function tellClicker(respond: RespondFn, text: string, log: Logger): Promise<boolean> {
  return respondOrLog(respond, { response_type: 'ephemeral', replace_original: false, ...renderSlackMessage({ kind: 'answer', title: '', blocks: [{ type: 'text', text }] }) }, log);
}

/** `work`'s result if it settles within `ms`, else undefined (it goes on). */
async function within<T>(work: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

function sourceOf(channel: string | undefined, messageTs: string | undefined): SourceMessage {
  return { platform: 'slack', conversationId: channel, messageId: messageTs };
}

/** A sentence for a modal's error line: plain text, mentions as names Slack cannot render there. */
function plain(text: string): string {
  return plainMentions(text).replaceAll('*', '').slice(0, 150);
}

/** A Slack user group's members, for the approver check (`usergroups:read`). */
export class SlackApproverDirectory implements ApproverDirectory {
  constructor(private readonly client: webApi.WebClient) {}

  async membersOf(groupId: string): Promise<readonly string[]> {
    try {
      const result = await this.client.usergroups.users.list({ usergroup: groupId });
      return result.users ?? [];
    } catch (error) {
      throw new FinOpsError('command_invalid', `Slack would not list the members of user group ${groupId} (${slackErrorCode(error) ?? 'no answer'}).`, { cause: error });
    }
  }
}
