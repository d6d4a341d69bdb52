/**
 * Slack's AI-app surface (the assistant pane and its threads): a greeting with suggested
 * prompts when a thread opens, and each message in it answered like any other question,
 * with a status and a streamed answer. Where the workspace does not offer the surface, the
 * same questions come as mentions and direct messages instead.
 */
import { Assistant, type webApi } from '@slack/bolt';
import type { Logger } from '../../logger.js';

/** The prompts offered when an assistant thread opens. */
export const SUGGESTED_PROMPTS = [
  { title: 'What changed this week?', message: 'What changed in our AWS spend over the last 7 days, and why?' },
  { title: 'Where will this month end?', message: 'Where will this month end, and how does that compare with last month?' },
  { title: 'Biggest services', message: 'What are our biggest services over the last 30 days, and which are growing?' },
  { title: 'Untagged spend', message: 'How much of our spend has no team tag, and where is it?' },
] as const;

/** A message in an assistant thread, as the listeners answer it. */
export interface AssistantQuestion {
  readonly channel: string;
  readonly threadTs: string;
  readonly ts: string;
  readonly user: string;
  readonly text: string;
  readonly teamId: string | undefined;
}

/**
 * The assistant for `app.assistant(…)`. Thread context (the channel the user is viewing) is
 * not used: answers depend on who asks and where they are posted, so the default store's
 * extra history reads are skipped.
 */
export function createFinOpsAssistant(answer: (question: AssistantQuestion, client: webApi.WebClient) => Promise<void>, log: Logger): Assistant {
  return new Assistant({
    threadContextStore: { get: async () => ({}), save: async () => undefined },
    threadStarted: async ({ say, setSuggestedPrompts }) => {
      try {
        await say("Hi! Ask me about your AWS spend — what changed, what drives it, where the month will end. I answer from your organisation's cost data and show the basis of every figure.");
        await setSuggestedPrompts({ title: 'Try one of these:', prompts: [...SUGGESTED_PROMPTS] });
      } catch (error) {
        log.warn({ err: error instanceof Error ? error.message : String(error) }, 'could not greet an assistant thread');
      }
    },
    userMessage: async ({ message, context, client }) => {
      if (!('user' in message) || !message.user || ('bot_id' in message && message.bot_id)) return;
      const threadTs = 'thread_ts' in message && typeof message.thread_ts === 'string' ? message.thread_ts : message.ts;
      await answer({
        channel: message.channel,
        threadTs,
        ts: message.ts,
        user: message.user,
        text: ('text' in message ? message.text : undefined) ?? '',
        teamId: context.teamId,
      }, client);
    },
  });
}
