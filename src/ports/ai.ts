/**
 * The interfaces AI answers need from the outside world: a language model with tool use,
 * the memory of conversations, and the ledger of the bot's own AI spend. Re-exported by
 * ports.ts, which the rest of the code imports.
 */
import type { TokenUsage } from '../core/ai-pricing.js';
import type { DateRange } from '../core/period.js';

/** One piece of a model conversation message. */
export type ModelContent =
  | { readonly type: 'text'; readonly text: string }
  | { readonly type: 'tool_use'; readonly id: string; readonly name: string; readonly input: unknown }
  | { readonly type: 'tool_result'; readonly id: string; readonly text: string; readonly isError: boolean };

/** A message of a model conversation. */
export interface ModelMessage {
  readonly role: 'user' | 'assistant';
  readonly content: readonly ModelContent[];
}

/** A tool the model may call: its name, what it is for, and its input as JSON Schema. */
export interface ModelTool {
  readonly name: string;
  readonly description: string;
  readonly inputSchema: Readonly<Record<string, unknown>>;
}

/** One request to the model: a whole conversation so far. */
export interface ModelRequest {
  readonly system: string;
  readonly messages: readonly ModelMessage[];
  readonly tools: readonly ModelTool[];
  /** Always set: the most the model may write in this turn. */
  readonly maxTokens: number;
  /** Mark the system prompt and the tool definitions as a cacheable prefix (prompt caching). */
  readonly cachePrefix: boolean;
  readonly signal?: AbortSignal | undefined;
  /** Receives answer text as it is generated; when set, the model is asked to stream. */
  readonly onText?: ((delta: string) => void) | undefined;
}

/** Tokens one model call used (defined in core, where costs are computed). */
export type { TokenUsage } from '../core/ai-pricing.js';

/** Why the model stopped writing. */
export type ModelStopReason = 'end_turn' | 'tool_use' | 'max_tokens' | 'stop_sequence' | 'guardrail_intervened' | 'content_filtered' | 'other';

/** The model's turn. */
export interface ModelResponse {
  readonly content: readonly ModelContent[];
  readonly stopReason: ModelStopReason;
  readonly usage: TokenUsage;
}

/**
 * A large language model with tool use (Claude on Amazon Bedrock). Throws a FinOpsError
 * coded `model_throttled`, `model_unavailable` (timeouts and 5xx, after retries) or
 * `model_denied` (access, validation, unknown model) with a sentence for the user.
 */
export interface LanguageModel {
  readonly modelId: string;
  /** Whether the model honours cache points (prompt caching). */
  readonly supportsPromptCache: boolean;
  converse(request: ModelRequest): Promise<ModelResponse>;
}

/** One remembered turn of a conversation: what was asked or answered, as text. */
export interface ConversationTurn {
  readonly role: 'user' | 'assistant';
  readonly text: string;
  readonly at: Date;
}

/**
 * The memory of AI conversations, keyed by Slack thread or Teams conversation, kept in
 * PostgreSQL so any instance can answer a follow-up.
 */
export interface ConversationStore {
  /** The latest `limit` turns of the conversation, oldest first. */
  recent(key: string, limit: number): Promise<ConversationTurn[]>;
  /** Adds turns at the end of the conversation. */
  append(key: string, turns: readonly ConversationTurn[]): Promise<void>;
}

/** What one AI answer cost the bot. */
export interface AiUsageRecord {
  readonly at: Date;
  /** The model id, or 'deterministic' when no model was used. */
  readonly model: string;
  /** Who asked: `slack:U123`, `teams:<aad id>`, `console`. Rate limits count by it. */
  readonly requester: string;
  readonly usage: TokenUsage;
  /** USD in nano-dollars (1e-9); undefined when the model's price is unknown. */
  readonly costNanoUsd: bigint | undefined;
  readonly toolCalls: number;
  readonly outcome: 'answered' | 'fallback';
}

/** One day's LLM spend of one model. */
export interface AiUsageDay {
  readonly day: string;
  readonly model: string;
  readonly answers: number;
  readonly usage: TokenUsage;
  /** Sum over the priced answers, in nano-dollars. */
  readonly costNanoUsd: bigint;
  /** Answers whose price was unknown (not in costNanoUsd). */
  readonly unpriced: number;
}

/** The ledger of the bot's own LLM spend, and the count per-user rate limits read. */
export interface AiUsageLedger {
  record(entry: AiUsageRecord): Promise<void>;
  /** Answers for `requester` at or after `since` (any instance) that called the model (used tokens). */
  countSince(requester: string, since: Date): Promise<number>;
  /** Spend by day (in `timeZone`) and model over `range` (end exclusive), oldest day first. */
  dailyUsage(range: DateRange, timeZone: string): Promise<AiUsageDay[]>;
}
