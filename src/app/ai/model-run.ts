/**
 * One model conversation: the question (after the thread's earlier turns) goes to the model
 * with the read-only tools; each tool call is run and its result returned, for a bounded
 * number of rounds. What the model said, what it cost and what data it read come back,
 * or the reason its answer cannot be used.
 */
import { addUsage, NO_USAGE, type TokenUsage } from '../../core/ai-pricing.js';
import { type ErrorCode, isFinOpsError } from '../../core/errors.js';
import type { ConversationTurn, LanguageModel, ModelContent, ModelMessage, ModelTool } from '../../ports.js';
import type { HandlerDeps } from '../report-context.js';
import type { TeamAccess } from '../team-access.js';
import { runTool } from './tools.js';

/** Most tool calls run in one model turn; the others are answered with an error. */
export const MAX_TOOL_CALLS_PER_TURN = 8;

/** The text the last round of tool results carries. */
export const LAST_ROUND_TEXT = 'That was the last round of data lookups: answer now with the results you have.';

/** What the model said and did, so far or in the end. */
export interface ModelRun {
  readonly text: string;
  readonly usage: TokenUsage;
  /** Model calls made. */
  readonly rounds: number;
  readonly toolCalls: number;
  /** Results of the tool calls that succeeded (the grounding check reads them). */
  readonly toolTexts: readonly string[];
  /** Basis lines of the data the tools read. */
  readonly bases: readonly string[];
  /** Why the model's answer is not used (a sentence for the asker). */
  readonly fallback?: string | undefined;
  /** A remark to show under the answer. */
  readonly note?: string | undefined;
}

/** What a run needs. */
export interface ModelRunRequest {
  readonly model: LanguageModel;
  readonly system: string;
  readonly history: readonly ModelMessage[];
  /** The question with its framing (date, freshness, what the conversation sees). */
  readonly question: string;
  readonly tools: readonly ModelTool[];
  readonly access: TeamAccess;
  readonly limits: { readonly maxTokens: number; readonly maxToolRounds: number; readonly timeoutMs: number };
  readonly onStatus?: ((status: string) => void) | undefined;
  readonly stream?: StreamWriter | undefined;
  readonly logger: { warn(details: object, message: string): void };
}

/** What a person is told when the model could not answer, by error code (details go to the log). */
const FALLBACK_REASONS: Partial<Record<ErrorCode, string>> = {
  model_throttled: 'Amazon Bedrock is busy right now (it is throttling requests).',
  model_unavailable: 'Amazon Bedrock did not answer (it timed out or is unavailable).',
  model_denied: 'The AI model is not available to this bot; an operator can find why in its log.',
};

/**
 * Runs the conversation. Model failures end it with a `fallback` reason; any other failure
 * (the database, a bug) is thrown with what was spent so far attached as `run`.
 */
export async function runModel(deps: HandlerDeps, request: ModelRunRequest): Promise<ModelRun> {
  const { model, limits } = request;
  const messages: ModelMessage[] = [...request.history, { role: 'user', content: [{ type: 'text', text: request.question }] }];
  const signal = AbortSignal.timeout(limits.timeoutMs);
  let usage = NO_USAGE;
  let rounds = 0;
  let toolCalls = 0;
  const texts: string[] = [];
  const toolTexts: string[] = [];
  const bases = new Set<string>();
  const result = (extra: Partial<ModelRun> = {}): ModelRun => ({ text: texts.join('\n\n'), usage, rounds, toolCalls, toolTexts, bases: [...bases], ...extra });
  try {
    for (;;) {
      rounds++;
      request.stream?.separate();
      const response = await model.converse({
        system: request.system,
        messages,
        tools: request.tools,
        maxTokens: limits.maxTokens,
        cachePrefix: model.supportsPromptCache,
        signal,
        onText: request.stream ? (delta) => request.stream!.write(delta) : undefined,
      });
      usage = addUsage(usage, response.usage);
      // Bedrock refuses blank text blocks when they are sent back.
      const content = response.content.filter((block) => block.type !== 'text' || block.text.trim() !== '');
      const uses = content.filter((block): block is Extract<ModelContent, { type: 'tool_use' }> => block.type === 'tool_use');
      texts.push(...content.flatMap((block) => (block.type === 'text' ? [block.text.trim()] : [])));
      if (response.stopReason === 'guardrail_intervened' || response.stopReason === 'content_filtered') {
        return result({ fallback: 'The model declined to answer this (a content filter stopped it).' });
      }
      if (response.stopReason !== 'tool_use' || uses.length === 0) {
        if (texts.length === 0) return result({ fallback: 'The model gave no answer.' });
        return result({ note: response.stopReason === 'max_tokens' ? `The answer reached its length limit (${limits.maxTokens} tokens) and was cut short.` : undefined });
      }
      if (rounds > limits.maxToolRounds) return result({ fallback: `The model needed more than ${limits.maxToolRounds} rounds of data lookups.` });
      messages.push({ role: 'assistant', content });
      request.onStatus?.(`is reading ${[...new Set(uses.map((use) => use.name.replaceAll('_', ' ').slice(0, 40)))].slice(0, 3).join(', ')}…`);
      const results: ModelContent[] = [];
      for (const [index, use] of uses.entries()) {
        if (index >= MAX_TOOL_CALLS_PER_TURN) {
          results.push({ type: 'tool_result', id: use.id, text: `Not run: at most ${MAX_TOOL_CALLS_PER_TURN} tool calls are run per turn.`, isError: true });
          continue;
        }
        toolCalls++;
        const { output, isError } = await runTool(deps, request.access, use.name, use.input);
        if (isError) request.logger.warn({ tool: use.name.slice(0, 60), error: output.text.slice(0, 200) }, 'AI tool call refused');
        else toolTexts.push(output.text);
        if (output.basis) bases.add(output.basis);
        results.push({ type: 'tool_result', id: use.id, text: output.text, isError });
      }
      if (rounds === limits.maxToolRounds) results.push({ type: 'text', text: LAST_ROUND_TEXT });
      messages.push({ role: 'user', content: results });
    }
  } catch (error) {
    if (signal.aborted) return result({ fallback: `The model took longer than ${formatSeconds(limits.timeoutMs)}.` });
    if (isFinOpsError(error) && FALLBACK_REASONS[error.code]) {
      request.logger.warn({ code: error.code, detail: error.message, err: error.cause ?? error }, 'AI model call failed; answering with the built-in explanation');
      return result({ fallback: FALLBACK_REASONS[error.code] });
    }
    throw Object.assign(error instanceof Error ? error : new Error(String(error)), { run: result() });
  }
}

function formatSeconds(ms: number): string {
  return ms >= 10_000 ? `${Math.round(ms / 1000)} s` : `${(ms / 1000).toFixed(1)} s`;
}

/**
 * Earlier turns as model messages: the newest first until `maxChars` is spent, starting
 * with a question, with one message per role in turn (the Converse API requires it).
 */
export function historyMessages(turns: readonly ConversationTurn[], maxChars: number): ModelMessage[] {
  const kept: ConversationTurn[] = [];
  let used = 0;
  for (const turn of turns.filter((candidate) => candidate.text.trim() !== '').reverse()) {
    if (used + turn.text.length > maxChars) break;
    used += turn.text.length;
    kept.unshift(turn);
  }
  while (kept.length > 0 && kept[0]!.role !== 'user') kept.shift();
  // The new question follows as a user message, so the history must end with an answer.
  while (kept.length > 0 && kept.at(-1)!.role !== 'assistant') kept.pop();
  const messages: ModelMessage[] = [];
  for (const turn of kept) {
    const last = messages.at(-1);
    if (last && last.role === turn.role) messages[messages.length - 1] = { role: turn.role, content: [...last.content, { type: 'text', text: turn.text }] };
    else messages.push({ role: turn.role, content: [{ type: 'text', text: turn.text }] });
  }
  return messages;
}

/** Passes answer text on as it is written, with a blank line between the texts of separate turns. */
export interface StreamWriter {
  readonly text: string;
  write(delta: string): void;
  /** A blank line before the next text, when something was written already. */
  separate(): void;
}

/** A writer that hands every piece to `onText`. */
export function streamWriter(onText: (delta: string) => void): StreamWriter {
  let text = '';
  let pending = false;
  return {
    get text() {
      return text;
    },
    write(delta) {
      if (delta === '') return;
      if (pending && text !== '') {
        text += '\n\n';
        onText('\n\n');
      }
      pending = false;
      text += delta;
      onText(delta);
    },
    separate() {
      pending = true;
    },
  };
}
