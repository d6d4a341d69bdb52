/**
 * Getting a reply to the person who asked, whatever Slack says: a post refused by the
 * channel is explained in a direct message, and an answer the `response_url` will not take
 * is shown to the asker another way. Every refusal is logged with Slack's error code.
 */
import type { RespondFn, webApi } from '@slack/bolt';
import type { Reply } from '../../core/reply.js';
import type { Logger } from '../../logger.js';
import { renderSlackMessage } from '../../render/slack-blocks.js';
import { describeSlackFailure, slackErrorCode } from './slack-errors.js';

type WebClient = webApi.WebClient;
type Message = ReturnType<typeof renderSlackMessage>;

/** Where a reply goes: a conversation, the asker in it, and the thread if there is one. */
export interface ReplyTarget {
  readonly channel: string;
  readonly user: string | undefined;
  readonly threadTs: string | undefined;
}

/** How long to wait before trying a `response_url` a second time. */
const RESPOND_RETRY_MS = 500;

/** Posts `reply` in the conversation (in the thread when there is one). */
export async function postInThread(client: WebClient, target: ReplyTarget, reply: Reply, log: Logger): Promise<void> {
  try {
    await client.chat.postMessage({ channel: target.channel, ...(target.threadTs ? { thread_ts: target.threadTs } : {}), ...renderSlackMessage(reply) });
  } catch (error) {
    await explainFailure(client, target, error, 'chat.postMessage', log);
  }
}

/** Shows `message` to the asker only. */
export async function postEphemeral(client: WebClient, target: ReplyTarget & { user: string }, message: Message, log: Logger): Promise<void> {
  try {
    await client.chat.postEphemeral({ channel: target.channel, user: target.user, ...(target.threadTs ? { thread_ts: target.threadTs } : {}), ...message });
  } catch (error) {
    await explainFailure(client, target, error, 'chat.postEphemeral', log);
  }
}

/**
 * Answers a slash command privately through its `response_url`, trying twice; when Slack
 * still will not take it (an outage, an expired URL), shows it to the asker with
 * `chat.postEphemeral`, and failing that explains in a direct message.
 */
export async function answerPrivately(respond: RespondFn, client: WebClient, target: ReplyTarget & { user: string }, message: Message, log: Logger): Promise<void> {
  if (await respondOrLog(respond, { response_type: 'ephemeral', ...message }, log)) return;
  await new Promise((resolve) => setTimeout(resolve, RESPOND_RETRY_MS));
  if (await respondOrLog(respond, { response_type: 'ephemeral', ...message }, log)) return;
  await postEphemeral(client, target, message, log);
}

/** Sends through a `response_url`; returns false (and logs) when Slack does not take it. */
export async function respondOrLog(respond: RespondFn, message: Parameters<RespondFn>[0], log: Logger): Promise<boolean> {
  try {
    await respond(message);
    return true;
  } catch (error) {
    log.warn({ err: error instanceof Error ? error.message : String(error), method: 'response_url' }, 'could not answer through the response URL');
    return false;
  }
}

/**
 * Logs a refused post and tells the asker why in a direct message: the conversation that
 * refused the reply would refuse the explanation too. Nothing more is sent when the refusal
 * came from a direct message itself, or from a rate limit (another post would only wait
 * out another one).
 */
async function explainFailure(client: WebClient, target: ReplyTarget, error: unknown, method: string, log: Logger): Promise<void> {
  const code = slackErrorCode(error);
  log.warn({ slackError: code, method, channel: target.channel }, 'Slack refused a reply');
  if (!target.user || target.channel.startsWith('D') || code === 'ratelimited') return;
  try {
    await client.chat.postMessage({ channel: target.user, text: describeSlackFailure(code, target.channel) });
  } catch (second) {
    log.warn({ slackError: slackErrorCode(second), method: 'chat.postMessage', channel: 'direct message' }, 'could not tell the user why their reply failed');
  }
}
