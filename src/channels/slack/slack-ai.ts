/**
 * AI answers in Slack threads, native where the workspace allows: a status while the
 * answer is worked out (`assistant.threads.setStatus`), the answer streamed as it is
 * written (`chat.startStream` / `appendStream` / `stopStream` through the WebClient's
 * ChatStreamer), and its basis and cost added when the stream stops. Where Slack refuses
 * any of that, the answer is posted as a plain threaded reply instead; nothing is lost.
 */
import type { webApi } from '@slack/bolt';
import type { AnswerHooks } from '../../app/ai/agent.js';
import type { Reply } from '../../core/reply.js';
import type { Logger } from '../../logger.js';
import { renderSlackMessage } from '../../render/slack-blocks.js';
import { slackErrorCode } from './slack-errors.js';
import { postEphemeral, postInThread, type ReplyTarget } from './slack-replies.js';

type WebClient = webApi.WebClient;

/** What an answer needs to know; without a thread (a direct message's main view) it can't stream. */
export interface ThreadAnswer {
  readonly target: ReplyTarget;
  /** The workspace, for a stream's recipient. */
  readonly teamId: string | undefined;
  /** Produces the reply, passing progress to `hooks`. */
  ask(hooks: AnswerHooks): Promise<Reply>;
  /** Where help and errors go: ephemeral to the asker in channels, in the thread in direct messages. */
  readonly privateErrors: boolean;
}

/** Characters buffered before each `chat.appendStream` (Slack's rate limits favour fewer, larger appends). */
const STREAM_BUFFER = 200;

/** Answers in a thread with a status and a streamed answer when Slack allows, a plain reply otherwise. */
export async function answerInThread(client: WebClient, answer: ThreadAnswer, log: Logger): Promise<void> {
  const { target } = answer;
  const threadTs = target.threadTs;
  const privately = (reply: Reply) => reply.kind !== 'answer' && answer.privateErrors && target.user !== undefined;
  const deliver = async (reply: Reply, streamed: boolean) => {
    if (privately(reply)) await postEphemeral(client, { ...target, user: target.user! }, renderSlackMessage(reply), log);
    else if (!streamed) await postInThread(client, target, reply, log);
  };
  if (threadTs === undefined) {
    await deliver(await answer.ask({}), false);
    return;
  }
  let statusShown = false;
  const setStatus = (status: string): void => {
    void client.assistant.threads
      .setStatus({ channel_id: target.channel, thread_ts: threadTs, status })
      .then(() => (statusShown = true))
      .catch((error: unknown) => log.debug({ slackError: slackErrorCode(error) }, 'no assistant status in this conversation'));
  };
  const stream = streamFor(client, { ...target, threadTs }, answer.teamId, log);
  const reply = await answer.ask({ onStatus: setStatus, onText: stream.append });
  // Finishing first removes a partial streamed message when the reply turned out to be an error.
  await deliver(reply, await stream.finish(reply));
  // A reply posted in the thread clears the status; one shown only to the asker does not.
  if (statusShown && privately(reply)) {
    await client.assistant.threads.setStatus({ channel_id: target.channel, thread_ts: threadTs, status: '' }).catch(() => undefined);
  }
}

interface ReplyStream {
  append(delta: string): void;
  /** Stops the stream with the reply's basis and cost; false when nothing was streamed or Slack refused. */
  finish(reply: Reply): Promise<boolean>;
}

function streamFor(client: WebClient, target: ReplyTarget & { threadTs: string }, teamId: string | undefined, log: Logger): ReplyStream {
  const safe = safeMarkdown();
  let streamer: ReturnType<WebClient['chatStream']> | undefined;
  let pending: Promise<unknown> = Promise.resolve();
  let failed = false;
  const refuse = (error: unknown, method: string) => {
    failed = true;
    log.info({ slackError: slackErrorCode(error), method }, 'Slack refused a streamed answer; posting it as a reply');
  };
  return {
    append(raw) {
      if (failed) return;
      const delta = safe.push(raw);
      if (delta === '') return;
      streamer ??= client.chatStream({
        channel: target.channel,
        thread_ts: target.threadTs,
        ...(teamId ? { recipient_team_id: teamId } : {}),
        ...(target.user ? { recipient_user_id: target.user } : {}),
        buffer_size: STREAM_BUFFER,
      });
      const current = streamer;
      pending = pending.then(() => (failed ? undefined : current.append({ markdown_text: delta }).catch((error: unknown) => refuse(error, 'chat.appendStream'))));
    },
    async finish(reply) {
      await pending;
      if (!streamer) return false;
      if (!failed && reply.kind === 'answer') {
        // The first block is the text already streamed; what follows (notes, basis, cost) closes the message.
        const closing = renderSlackMessage({ ...reply, title: '', blocks: reply.blocks.slice(1) }).blocks.filter((block) => block.type !== 'header');
        const rest = safe.flush();
        try {
          await streamer.stop({ ...(rest ? { markdown_text: rest } : {}), blocks: closing });
          return true;
        } catch (error) {
          refuse(error, 'chat.stopStream');
        }
      }
      // The whole answer is posted instead: a partial streamed message would repeat it.
      if (streamer.ts) await client.chat.delete({ channel: target.channel, ts: streamer.ts }).catch(() => undefined);
      return false;
    },
  };
}

/** Longest text held back while waiting to see whether a `[` opens a link. */
const MAX_HELD = 300;

/**
 * Model text made safe to stream: `<`, `>` and `&` escaped (no Slack mentions, no
 * `<url|disguised>` links) and Markdown links shown with their address, as in posted answers.
 * Text from an unclosed `[` on is held until the link is complete or clearly not one.
 */
export function safeMarkdown(): { push(delta: string): string; flush(): string } {
  let held = '';
  const render = (text: string) =>
    text
      .replaceAll('&', '&amp;')
      .replaceAll('<', '&lt;')
      .replaceAll('>', '&gt;')
      .replace(/\[([^\]\n]*)\]\(([^)\s]*)\)/g, (_link, label: string, url: string) => (label.trim() && label !== url ? `${label} (${url})` : url));
  return {
    push(delta) {
      held += delta;
      const open = held.lastIndexOf('[');
      // A link may still be forming from the last `[` on: hold that part back.
      const pending = open !== -1 && !/\]\([^)\s]*\)|\n/.test(held.slice(open)) && held.length - open <= MAX_HELD;
      const ready = pending ? held.slice(0, open) : held;
      held = pending ? held.slice(open) : '';
      return render(ready);
    },
    flush() {
      const rest = render(held);
      held = '';
      return rest;
    },
  };
}
