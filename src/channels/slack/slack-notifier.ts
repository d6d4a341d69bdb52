/**
 * Posts digests into Slack channels: the digest as a Block Kit message, then its chart as an
 * image uploaded with `files.uploadV2`. A refusal becomes a DeliveryError that says whether a
 * person has to act (the bot was removed, the channel archived) or a retry may succeed.
 */
import type { webApi } from '@slack/bolt';
import { DeliveryError } from '../../core/errors.js';
import type { Reply } from '../../core/reply.js';
import type { DigestNotifier } from '../../ports.js';
import { renderSlackMessage } from '../../render/slack-blocks.js';
import { describeSlackFailure, slackErrorCode } from './slack-errors.js';

/** Slack errors that no retry will fix: someone must invite the bot, unarchive or fix the app. */
const PERMANENT = new Set([
  'not_in_channel',
  'channel_not_found',
  'is_archived',
  'restricted_action',
  'restricted_action_read_only_channel',
  'restricted_action_thread_only_channel',
  'restricted_action_non_threadable_channel',
  'invalid_auth',
  'account_inactive',
  'token_revoked',
  'missing_scope',
  'not_authed',
  'access_denied',
  'team_access_not_granted',
  'ekm_access_denied',
  'file_uploads_disabled',
  'msg_too_long',
  'invalid_blocks',
  'invalid_arguments',
  'message_not_found',
  'cant_update_message',
  'edit_window_closed',
]);

/** Digests to Slack through the bot's Web API client. */
export class SlackDigestNotifier implements DigestNotifier {
  readonly platform = 'slack' as const;

  constructor(private readonly client: webApi.WebClient) {}

  async postMessage(conversationId: string, reply: Reply): Promise<string> {
    try {
      const result = await this.client.chat.postMessage({ channel: conversationId, ...renderSlackMessage(reply) });
      if (result.ts) return result.ts;
    } catch (error) {
      throw deliveryError(error, conversationId);
    }
    // Slack said ok without a message id: nothing to record, so the retry must decide.
    throw new DeliveryError('no_message_id', false, 'Slack accepted the digest without a message id.');
  }

  async postChart(conversationId: string, png: Uint8Array, title: string): Promise<string> {
    try {
      const result = await this.client.filesUploadV2({
        channel_id: conversationId,
        file: Buffer.from(png),
        filename: 'finops-digest.png',
        title,
        alt_text: title,
      });
      return result.files.flatMap((completion) => completion.files ?? []).map((file) => file.id ?? '')[0] ?? '';
    } catch (error) {
      throw deliveryError(error, conversationId);
    }
  }
}

/** A Slack refusal as a DeliveryError that says whether a person must act. */
export function deliveryError(error: unknown, conversationId: string): DeliveryError {
  const code = slackErrorCode(error);
  return new DeliveryError(code, PERMANENT.has(code), describeSlackFailure(code, conversationId), { cause: error });
}
