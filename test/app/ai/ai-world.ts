/**
 * The world for AI-answer tests: the demo organisation synced into a real database
 * (PGlite, or PostgreSQL with DATABASE_URL), the real engine with the real Bedrock adapter,
 * real conversation and usage stores and the shipped prompts. Only the Bedrock SDK client is
 * fake (aws-sdk-client-mock), so what the tests read is exactly what Bedrock would receive.
 */
import {
  BedrockRuntimeClient,
  ConverseCommand,
  type ConverseCommandInput,
  type ConverseCommandOutput,
  type ConverseStreamOutput,
  type Message,
  type TokenUsage as BedrockTokenUsage,
} from '@aws-sdk/client-bedrock-runtime';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { BedrockLanguageModel } from '../../../src/adapters/aws/bedrock-model.js';
import { PgAiUsageLedger } from '../../../src/adapters/db/ai-usage-ledger.js';
import { PgConversationStore } from '../../../src/adapters/db/conversation-store.js';
import { PgCostStore } from '../../../src/adapters/db/cost-store.js';
import { aiConversationTurns, aiUsage } from '../../../src/adapters/db/schema.js';
import { DemoCostSource } from '../../../src/adapters/demo/demo-cost-source.js';
import { loadPromptFiles } from '../../../src/adapters/prompts/prompt-files.js';
import { type AiLimits, DEFAULT_AI_LIMITS } from '../../../src/app/ai/agent.js';
import { CommandEngine, type RequestContext } from '../../../src/app/engine.js';
import { syncCosts } from '../../../src/app/sync-costs.js';
import type { ModelPrice } from '../../../src/core/ai-pricing.js';
import type { Reply, ReplyBlock } from '../../../src/core/reply.js';
import type { Clock, CostSource } from '../../../src/ports.js';
import { renderText } from '../../../src/render/text.js';
import { openTestDatabase, type TestDatabase } from '../../support/test-database.js';
import { FixedClock, testEngineSettings, testSyncSettings } from '../../support/world.js';

/** Claude Sonnet 4.5 through the US cross-region inference profile: prompt caching, list price known. */
export const SONNET = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
/** Sunday 22 November 2026, noon UTC: data is through Saturday the 21st. */
export const NOW = '2026-11-22T12:00:00Z';
/** The last 7 days as the engine resolves `7d` at {@link NOW}. */
export const LAST_7_DAYS = 'last 7 days (2026-11-15 – 2026-11-21)';

/** A synced cost store and what is needed to build engines over it. */
export interface AiWorld {
  readonly test: TestDatabase;
  readonly store: PgCostStore;
  readonly source: CostSource;
  readonly clock: FixedClock;
  /** Forgets every AI answer and conversation, so each test starts with an empty ledger. */
  forgetAi(): Promise<void>;
  dispose(): Promise<void>;
}

/** Opens a database and syncs `source` (the demo organisation by default) into it. */
export async function openAiWorld(source: CostSource = new DemoCostSource(), backfillDays = 100): Promise<AiWorld> {
  const test = await openTestDatabase();
  const store = new PgCostStore(test.database.db);
  const clock = new FixedClock(new Date(NOW));
  await syncCosts({ source, store, clock }, testSyncSettings(backfillDays));
  return {
    test,
    store,
    source,
    clock,
    async forgetAi() {
      await test.database.db.delete(aiUsage);
      await test.database.db.delete(aiConversationTurns);
    },
    dispose: () => test.dispose(),
  };
}

/** How an engine for one test is built. */
export interface EngineOptions {
  /** The model id; null for an engine without a model. Default {@link SONNET}. */
  readonly modelId?: string | null;
  readonly limits?: Partial<AiLimits>;
  readonly channelTeams?: ReadonlyMap<string, readonly string[]>;
  readonly price?: ModelPrice;
  readonly clock?: Clock;
  /** Receives what the engine logs (warnings and errors). */
  readonly logs?: unknown[];
}

/** The engine with AI answers: the real Bedrock adapter over a (mocked) SDK client, real stores, the shipped prompts. */
export function aiEngine(world: AiWorld, options: EngineOptions = {}): CommandEngine {
  const modelId = options.modelId === undefined ? SONNET : options.modelId;
  const client = new BedrockRuntimeClient({ region: 'us-east-1', credentials: { accessKeyId: 'AKIDTESTONLY', secretAccessKey: 'test-secret-not-real' } });
  const db = world.test.database.db;
  const logs = options.logs ?? [];
  return new CommandEngine(
    {
      store: world.store,
      clock: options.clock ?? world.clock,
      settings: { ...testEngineSettings(), ...(options.channelTeams ? { channelTeams: options.channelTeams } : {}) },
      ai: {
        model: modelId === null ? undefined : new BedrockLanguageModel(modelId, { client }),
        conversations: new PgConversationStore(db),
        usage: new PgAiUsageLedger(db),
        prompts: loadPromptFiles(),
        limits: { ...DEFAULT_AI_LIMITS, ...options.limits },
        price: options.price,
      },
    },
    { error: (details, message) => logs.push({ level: 'error', message, details }), warn: (details, message) => logs.push({ level: 'warn', message, details }) },
  );
}

/** A Slack user in a Slack channel, optionally in a thread. */
export function slack(options: { user?: string; conversation?: string; thread?: string } = {}): RequestContext {
  return {
    channel: 'slack',
    userId: options.user ?? 'U1',
    conversationId: options.conversation ?? 'C1',
    ...(options.thread === undefined ? {} : { threadId: options.thread }),
  };
}

type Usage = Partial<Pick<BedrockTokenUsage, 'inputTokens' | 'outputTokens' | 'cacheReadInputTokens' | 'cacheWriteInputTokens'>>;

const metrics = { latencyMs: 5 };

/** A Converse answer as the mock returns it (the SDK adds `$metadata`). */
export type ConverseAnswer = Omit<ConverseCommandOutput, '$metadata'>;

function bedrockUsage(usage: Usage): BedrockTokenUsage {
  const input = usage.inputTokens ?? 100;
  const output = usage.outputTokens ?? 20;
  return { inputTokens: input, outputTokens: output, totalTokens: input + output + (usage.cacheReadInputTokens ?? 0) + (usage.cacheWriteInputTokens ?? 0), ...usage };
}

/** A Converse answer that calls tools. */
export function toolTurn(uses: readonly { id: string; name: string; input: unknown }[], usage: Usage = {}, text?: string): ConverseAnswer {
  return {
    output: {
      message: {
        role: 'assistant',
        content: [...(text === undefined ? [] : [{ text }]), ...uses.map((use) => ({ toolUse: { toolUseId: use.id, name: use.name, input: use.input as never } }))],
      },
    },
    stopReason: 'tool_use',
    usage: bedrockUsage(usage),
    metrics,
  };
}

/** A Converse answer in words. */
export function textTurn(text: string, usage: Usage = {}, stopReason: ConverseCommandOutput['stopReason'] = 'end_turn'): ConverseAnswer {
  return { output: { message: { role: 'assistant', content: [{ text }] } }, stopReason, usage: bedrockUsage(usage), metrics };
}

/** A ConverseStream answer: text in small deltas, then tool calls with their input in JSON fragments. */
export function streamTurn(options: { text?: string; uses?: readonly { id: string; name: string; input: unknown }[]; usage?: Usage }): { stream: AsyncIterable<ConverseStreamOutput> } {
  const events: ConverseStreamOutput[] = [{ messageStart: { role: 'assistant' } }];
  let index = 0;
  if (options.text !== undefined) {
    for (const piece of options.text.match(/[\s\S]{1,7}/g) ?? []) events.push({ contentBlockDelta: { contentBlockIndex: index, delta: { text: piece } } });
    events.push({ contentBlockStop: { contentBlockIndex: index } });
    index++;
  }
  for (const use of options.uses ?? []) {
    events.push({ contentBlockStart: { contentBlockIndex: index, start: { toolUse: { toolUseId: use.id, name: use.name } } } });
    const json = JSON.stringify(use.input);
    for (const piece of json.match(/[\s\S]{1,5}/g) ?? []) events.push({ contentBlockDelta: { contentBlockIndex: index, delta: { toolUse: { input: piece } } } });
    events.push({ contentBlockStop: { contentBlockIndex: index } });
    index++;
  }
  events.push({ messageStop: { stopReason: (options.uses ?? []).length > 0 ? 'tool_use' : 'end_turn' } });
  events.push({ metadata: { usage: bedrockUsage(options.usage ?? {}), metrics } });
  return {
    stream: (async function* () {
      for (const event of events) yield event;
    })(),
  };
}

/** Every Converse request the mock received, in order. */
export function converseInputs(mock: AwsClientStub<BedrockRuntimeClient>): ConverseCommandInput[] {
  return mock.commandCalls(ConverseCommand).map((call) => call.args[0].input);
}

/** A tool result as Bedrock received it. */
export interface SentToolResult {
  readonly toolUseId: string;
  readonly status: string | undefined;
  readonly text: string;
}

/** The tool results in a list of messages (all of them, in order). */
export function toolResultsIn(messages: readonly Message[] | undefined): SentToolResult[] {
  return (messages ?? []).flatMap((message) =>
    (message.content ?? []).flatMap((block) =>
      block.toolResult
        ? [{ toolUseId: block.toolResult.toolUseId ?? '', status: block.toolResult.status, text: (block.toolResult.content ?? []).map((part) => part.text ?? '').join('\n') }]
        : [],
    ),
  );
}

/** The tool results of the last message of a request (the ones answering the previous turn). */
export function lastToolResults(input: ConverseCommandInput | undefined): SentToolResult[] {
  return toolResultsIn(input?.messages?.slice(-1));
}

/** The text blocks of a message. */
export function textsOf(message: Message | undefined): string[] {
  return (message?.content ?? []).flatMap((block) => (block.text === undefined ? [] : [block.text]));
}

/** The value of the first "label: USD …" line of a tool result. */
export function toolField(text: string, label: string): string {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${label}: `));
  if (line === undefined) throw new Error(`no "${label}" line in the tool result:\n${text}`);
  return line.slice(label.length + 2);
}

/** The text of a reply's context blocks (notes, basis, cost). */
export function contextLines(reply: Reply): string[] {
  return reply.blocks.filter((block): block is Extract<ReplyBlock, { type: 'context' }> => block.type === 'context').map((block) => block.text);
}

/** The reply's answer text (its first block). */
export function answerText(reply: Reply): string {
  const first = reply.blocks[0];
  if (first?.type !== 'text') throw new Error(`the reply does not start with text:\n${renderText(reply)}`);
  return first.text;
}

/** A table of a reply, by position. */
export function tableOf(reply: Reply, index = 0): Extract<ReplyBlock, { type: 'table' }> {
  const found = reply.blocks.filter((block): block is Extract<ReplyBlock, { type: 'table' }> => block.type === 'table')[index];
  if (!found) throw new Error(`no table ${index} in\n${renderText(reply)}`);
  return found;
}

/** Rows of the `ai_usage` ledger, oldest first. */
export async function usageRows(world: AiWorld) {
  return world.test.database.db.select().from(aiUsage).orderBy(aiUsage.id);
}

/**
 * The world and the mocked Bedrock client of one describe block: opened once, the mock and
 * the AI tables reset before each test, closed after the last.
 */
export function useAiWorld(): { readonly world: AiWorld; readonly mock: AwsClientStub<BedrockRuntimeClient> } {
  const state = {} as { world: AiWorld; mock: AwsClientStub<BedrockRuntimeClient> };
  beforeAll(async () => {
    state.world = await openAiWorld();
    state.mock = mockClient(BedrockRuntimeClient);
  });
  afterAll(async () => {
    state.mock.restore();
    await state.world.dispose();
  });
  beforeEach(async () => {
    state.mock.reset();
    await state.world.forgetAi();
  });
  return state;
}
