/**
 * AI answers: input tokens per answer (the issue: "Benchmark: input tokens per answer for a
 * fixed question set (median, max), against a naive approach that pastes the period's cost
 * table into the prompt").
 *
 * Our side: the real engine (`createFinOpsApp`) over the demo organisation, synced into
 * PGlite in a temporary directory (120 days to 2026-11-21, fixed clock), with the real
 * BedrockLanguageModel and SDK client pointed at the local fake Bedrock
 * (test/support/fake-bedrock.ts). Each question of {@link QUESTIONS} is asked with `ask`;
 * the fake answers with a scripted plan (the tool calls a good model would make, then a
 * short text answer), and the bot runs the real tools over the store. What is counted is
 * every request body the fake received for that answer: `system` + `toolConfig` +
 * `messages`, as the bot sent them (the tool results included).
 *
 * Naive side: one request with the same system prompt (no tools), the same framed question
 * (today, data-through date, the question) and the period's whole cost table pasted as
 * CSV: every (day × service × team) row the store holds for the period the question
 * concerns, with the equal period before it when the question is about a change (a table
 * cannot show "went up" without the baseline). Amounts are rounded to cents, which only
 * shortens the naive prompt.
 *
 * Estimator (both sides alike): tokens ≈ characters of the JSON-serialised request content
 * / 4 (`system`, `toolConfig`, `messages` as the Converse API receives them; the model id and
 * inference settings are not counted). It is a rough proxy for Claude's tokenizer, meant for
 * comparing the two approaches, not for billing.
 *
 * Prompt caching: the bot sets cache points after the system prompt and after the tools, so
 * that prefix is written to the cache on an answer's first call and read from it (billed at
 * 10% of the input price) on the later calls. "Fresh" counts the prefix once per answer and
 * the messages of every call, i.e. a cache that is cold at each question (in a busy bot it
 * stays warm across questions, so this is the upper bound). The naive approach makes one
 * call, so all its tokens are fresh.
 *
 * Figures only: no target is asserted here.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { BedrockLanguageModel, createBedrockClient } from '../../src/adapters/aws/bedrock-model.js';
import { selectRows } from '../../src/adapters/db/database.js';
import { loadPromptFiles } from '../../src/adapters/prompts/prompt-files.js';
import { TOTAL_FACET } from '../../src/core/cost-model.js';
import { addDays, formatRange, parsePeriod, type DateRange, resolvePeriod } from '../../src/core/period.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createFinOpsApp, type FinOpsApp } from '../../src/main.js';
import { renderText } from '../../src/render/text.js';
import { type FakeBedrock, type FakeTurn, type ReceivedRequest, startFakeBedrock } from '../support/fake-bedrock.js';
import { FixedClock } from '../support/world.js';

const MODEL_ID = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const BACKFILL_DAYS = 120;
const NOW = '2026-11-22T12:00:00Z';
/** Characters per token of the estimator. */
const CHARS_PER_TOKEN = 4;

/** One tool call of a plan. */
interface PlannedCall {
  readonly name: string;
  readonly input: Readonly<Record<string, unknown>>;
}

/** A question, what a good model would do with it, and what the naive prompt pastes. */
interface BenchQuestion {
  readonly text: string;
  /** Tool calls, one array per model turn (the calls of one turn are made together). */
  readonly plan: readonly (readonly PlannedCall[])[];
  /** The model's final text answer (its length does not change the input tokens: nothing follows it). */
  readonly answer: string;
  /** The period the question concerns; `withPrevious`: the equal period before it too (questions about a change). */
  readonly naive: { readonly period: string; readonly withPrevious: boolean };
}

const EC2 = 'Amazon Elastic Compute Cloud - Compute';

/** The fixed question set. */
const QUESTIONS: readonly BenchQuestion[] = [
  {
    text: 'why did our spend go up last week?',
    plan: [[{ name: 'top_movers', input: { period: '7d' } }]],
    answer: 'Spend in the last 7 days (2026-11-15 – 2026-11-21) was **USD 60,925.69**, up **+USD 505.06 (+0.8%)** on the 7 days before: a small rise.\n- payments: +USD 204.89 (+2.1%)\n- data-platform: +USD 110.28 (+0.9%)\n- by service, EC2 - Other led with +USD 154.49 (+2.9%)\n\nTo see what moved inside payments: `top 7d for payments`.',
    naive: { period: '7d', withPrevious: true },
  },
  {
    text: 'what are our biggest services this month?',
    plan: [[{ name: 'cost_breakdown', input: { period: 'mtd', by: 'service' } }]],
    answer: 'Month to date (2026-11-01 – 2026-11-21) the organisation spent **USD 181,736.08**. The largest services:\n- Amazon Elastic Compute Cloud - Compute: USD 30,846.54 (17.0%)\n- Amazon Simple Storage Service: USD 21,650.26 (11.9%)\n- Amazon SageMaker: USD 16,268.21 (8.9%), the fastest-growing at +10.1%\n- EC2 - Other: USD 16,255.16 (8.9%)\n- Amazon Relational Database Service: USD 14,615.65 (8.0%)',
    naive: { period: 'mtd', withPrevious: false },
  },
  {
    text: 'how much did payments spend on RDS in the last 30 days?',
    plan: [[{ name: 'cost_breakdown', input: { period: '30d', team: 'payments', by: 'service' } }]],
    answer: 'payments spent **USD 12,981.97** on Amazon Relational Database Service in the last 30 days (2026-10-23 – 2026-11-21): 30.8% of the team’s USD 42,180.68, its largest service, and +1.5% on the 30 days before.',
    naive: { period: '30d', withPrevious: false },
  },
  {
    text: 'where will this month end?',
    plan: [[{ name: 'month_end_forecast', input: {} }]],
    answer: 'November is forecast to end at about **USD 258,887.69** (80% range USD 258,060.33 – USD 259,715.05), -1.9% against October’s USD 263,998.01. So far USD 181,736.08 has been spent (2026-11-01 – 2026-11-21).',
    naive: { period: 'mtd', withPrevious: false },
  },
  {
    text: 'compare October with September',
    plan: [
      [
        { name: 'compare_periods', input: { period: '2026-10', against: '2026-09', by: 'service' } },
        { name: 'compare_periods', input: { period: '2026-10', against: '2026-09', by: 'team' } },
      ],
    ],
    answer: 'October cost **USD 263,998.01**, **+USD 13,588.09 (+5.4%)** more than September’s USD 250,409.92 (October also has one more day).\n- By service, the increase is spread widely, led by EC2 compute, S3 and SageMaker.\n- By team, ml-platform grew fastest.\n\n`cost 2026-10 by team` shows the full split.',
    naive: { period: '2026-10', withPrevious: true },
  },
  {
    text: 'how much of our spend is untagged?',
    plan: [[{ name: 'tag_coverage', input: { period: '30d' } }]],
    answer: '**USD 19,814.63 (7.7%)** of the last 30 days’ spend carries no `Team` tag. Most of it is the acme-shared-services account (USD 16,030.20, all of that account’s spend); by service, EC2 - Other, AmazonCloudWatch and Amazon Virtual Private Cloud hold the most. Tagging the shared-services resources would close most of the gap.',
    naive: { period: '30d', withPrevious: false },
  },
  {
    text: 'when did EC2 costs start rising?',
    plan: [
      [{ name: 'list_values', input: { dimension: 'service', period: '90d', contains: 'Elastic Compute' } }],
      [{ name: 'daily_costs', input: { period: '90d', dimension: 'service', value: EC2 } }],
      [{ name: 'daily_costs', input: { period: '30d', dimension: 'service', value: EC2 } }],
    ],
    answer: 'EC2 compute did not jump on one day: it has risen slowly and steadily over the last 90 days, from USD 9,902.20 in the week of 2026-08-24 to USD 10,331.76 in the week of 2026-11-09 (the week of 2026-11-16 is not complete yet). Day by day the last 30 days show the usual weekday/weekend pattern and no step change.',
    naive: { period: '90d', withPrevious: false },
  },
  {
    text: 'which team grew most over the last 30 days?',
    plan: [[{ name: 'top_movers', input: { period: '30d' } }], [{ name: 'cost_breakdown', input: { period: '30d', by: 'team' } }]],
    answer: '**ml-platform** grew most over the last 30 days: +USD 2,083.63 (+5.7%) to USD 38,588.73, mostly Amazon SageMaker (+USD 1,825.65). payments followed with +USD 630.33 (+1.5%); the organisation as a whole rose +1.3%.',
    naive: { period: '30d', withPrevious: true },
  },
];

/** Estimated tokens of one request, by part. */
interface RequestTokens {
  readonly system: number;
  readonly tools: number;
  readonly messages: number;
}

/** One question's figures. */
interface QuestionResult {
  readonly question: string;
  readonly calls: number;
  readonly toolCalls: number;
  /** Every call's system + tools + messages. */
  readonly input: number;
  /** Of `input`: the cache-eligible prefix (system + tools) summed over the calls. */
  readonly prefix: number;
  /** Billed at the full input price with the prefix cached: the prefix once, every call's messages. */
  readonly fresh: number;
  readonly naiveRows: number;
  /** The days the naive table covers (the period, clipped to the data the store holds). */
  readonly naiveDays: string;
  readonly naive: number;
}

/** Prints the per-question table and the medians and maxima of both approaches. */
export async function benchAiTokens(): Promise<void> {
  console.log('\n== AI answers: input tokens per answer (fake Bedrock, demo organisation, PGlite)');
  try {
    loadPromptFiles();
  } catch (error) {
    console.log(`AI tokens: skipped, ${error instanceof Error ? error.message : String(error)}`);
    return;
  }
  // The SDK's notice that it will need Node 22 next year: not a figure of this benchmark.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const started = performance.now();
  const dataDir = mkdtempSync(join(tmpdir(), 'finops-bench-ai-'));
  let fake: FakeBedrock | undefined;
  let app: FinOpsApp | undefined;
  try {
    fake = await startFakeBedrock();
    const client = createBedrockClient({ endpoint: fake.url, region: 'us-east-1', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } });
    const model = new BedrockLanguageModel(MODEL_ID, { client });
    const clock = new FixedClock(new Date(NOW));
    app = await createFinOpsApp(loadConfig({ FINOPS_DATA_DIR: dataDir, LOG_LEVEL: 'silent' }), createLogger('silent'), { clock, backfillDays: BACKFILL_DAYS, model });
    const sync = await app.sync();
    if (!sync || sync.errors.length > 0) throw new Error(`the demo sync failed${sync ? `: ${sync.errors.map((error) => error.message).join('; ')}` : ''}`);

    const results: QuestionResult[] = [];
    let prefixShown = false;
    for (const [index, question] of QUESTIONS.entries()) {
      const requests = await askScripted(app, fake, question, index);
      const tokens = requests.map((request) => requestTokens(request.body));
      if (!prefixShown) {
        const first = tokens[0]!;
        console.log(
          `model ${MODEL_ID} (prompt caching: ${model.supportsPromptCache ? 'cache points after system and tools' : 'not supported'}); ` +
            `cache-eligible prefix per call: system ≈ ${first.system} tokens + tools (${toolCount(requests[0]!.body)}) ≈ ${first.tools} tokens`,
        );
        prefixShown = true;
      }
      const naive = await naiveRequest(app, question, requests[0]!.body);
      const input = sum(tokens.map((each) => each.system + each.tools + each.messages));
      const prefix = sum(tokens.map((each) => each.system + each.tools));
      results.push({
        question: question.text,
        calls: requests.length,
        toolCalls: question.plan.reduce((count, turn) => count + turn.length, 0),
        input,
        prefix,
        fresh: input - prefix + tokens[0]!.system + tokens[0]!.tools,
        naiveRows: naive.rows,
        naiveDays: naive.days,
        naive: naive.tokens,
      });
    }
    printResults(results);
    console.log(`(${QUESTIONS.length} questions, ${fake.requests.length} model calls, ${seconds(performance.now() - started)} s including the ${BACKFILL_DAYS}-day demo sync)`);
  } finally {
    await app?.close();
    await fake?.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * Scripts the plan of `question` into the fake, asks it through the engine and returns the
 * requests the fake received for it. Throws when the answer did not go as planned (a tool
 * refused its arguments, the model's answer was not used), since the figures would then
 * describe something else.
 */
async function askScripted(app: FinOpsApp, fake: FakeBedrock, question: BenchQuestion, index: number): Promise<ReceivedRequest[]> {
  const turns: FakeTurn[] = question.plan.map((calls, round) => ({
    toolUses: calls.map((call, position) => ({ id: toolUseId(index, round, position), name: call.name, input: call.input })),
  }));
  turns.push({ text: question.answer });
  fake.script(...turns);
  const first = fake.requests.length;
  const reply = await app.engine.handle(`ask ${question.text}`, { channel: 'console' });
  const requests = fake.requests.slice(first);
  if (reply.kind !== 'answer' || reply.title !== 'AI answer') throw new Error(`"${question.text}" was not answered by the model:\n${renderText(reply)}`);
  if (requests.length !== turns.length) throw new Error(`"${question.text}": ${requests.length} model calls, the plan has ${turns.length}`);
  const last = requests.at(-1)!.body as { messages?: { content?: { toolResult?: { status?: string; content?: { text?: string }[] } }[] }[] };
  for (const message of last.messages ?? []) {
    for (const block of message.content ?? []) {
      if (block.toolResult?.status === 'error') throw new Error(`"${question.text}": a planned tool call failed: ${block.toolResult.content?.[0]?.text ?? '(no text)'}`);
    }
  }
  return requests;
}

/** The naive request for `question`: the same system prompt and framed question, and the period's cost table as CSV. */
async function naiveRequest(app: FinOpsApp, question: BenchQuestion, ours: Record<string, unknown>): Promise<{ tokens: number; rows: number; days: string }> {
  const system = (ours.system as { text?: string }[])[0]?.text ?? '';
  const framed = ((ours.messages as { content: { text?: string }[] }[]).at(-1)?.content[0]?.text ?? '').trim();
  const spec = parsePeriod(question.naive.period);
  if ('error' in spec) throw new Error(`bad naive period ${question.naive.period}: ${spec.error}`);
  const today = NOW.slice(0, 10);
  const period = resolvePeriod(spec, today);
  const range: DateRange = { start: question.naive.withPrevious ? period.previous.start : period.start, end: period.end };
  const rows = await selectRows<{ day: string; service: string; team: string; amount: string }>(
    app.database.db,
    sql`select usage_date::text as day, value as service, team, round(unblended_cost, 2)::text as amount
        from cost_facts
        where facet = ${TOTAL_FACET} and usage_date >= ${range.start} and usage_date < ${range.end}
        order by usage_date, value, team`,
  );
  const table = ['date,service,team,amount', ...rows.map((row) => [row.day, row.service, row.team, row.amount].map(csvField).join(','))];
  const text = [
    framed,
    '',
    `The cost data for ${formatRange(range)}: one row per day, service and team (team empty = untagged); unblended cost in USD.`,
    ...table,
  ].join('\n');
  const body = { system: [{ text: system }], messages: [{ role: 'user', content: [{ text }] }] };
  const tokens = requestTokens(body);
  const days = rows.length === 0 ? 'no data' : formatRange({ start: rows[0]!.day, end: addDays(rows.at(-1)!.day, 1) });
  return { tokens: tokens.system + tokens.tools + tokens.messages, rows: rows.length, days };
}

/** The estimator: characters of each part of the request, JSON-serialised, / {@link CHARS_PER_TOKEN}. */
function requestTokens(body: Record<string, unknown>): RequestTokens {
  const estimate = (part: unknown) => (part === undefined ? 0 : Math.ceil(JSON.stringify(part).length / CHARS_PER_TOKEN));
  return { system: estimate(body.system), tools: estimate(body.toolConfig), messages: estimate(body.messages) };
}

function toolCount(body: Record<string, unknown>): number {
  const tools = (body.toolConfig as { tools?: { toolSpec?: unknown }[] } | undefined)?.tools ?? [];
  return tools.filter((tool) => tool.toolSpec !== undefined).length;
}

/** A tool-use id shaped like Bedrock's (`tooluse_` and 22 characters), stable from run to run. */
function toolUseId(question: number, round: number, position: number): string {
  return `tooluse_${createHash('sha256').update(`${question}:${round}:${position}`).digest('base64url').slice(0, 22)}`;
}

function csvField(value: string): string {
  return /[",\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

function printResults(results: readonly QuestionResult[]): void {
  const width = Math.max(...results.map((result) => result.question.length)) + 2;
  const num = (value: number, size: number) => value.toLocaleString('en-US').padStart(size);
  console.log('tokens ≈ characters of the JSON request content / 4 (system + toolConfig + messages), both sides alike');
  console.log(
    `${'question'.padEnd(width)}${'calls'.padStart(6)}${'tools'.padStart(6)}${'input'.padStart(9)}${'of which prefix'.padStart(17)}${'fresh (cached)'.padStart(16)}` +
      `${'naive'.padStart(9)}${'naive rows'.padStart(12)}  naive period`,
  );
  for (const result of results) {
    console.log(
      `${result.question.padEnd(width)}${num(result.calls, 6)}${num(result.toolCalls, 6)}${num(result.input, 9)}${num(result.prefix, 17)}${num(result.fresh, 16)}` +
        `${num(result.naive, 9)}${num(result.naiveRows, 12)}  ${result.naiveDays}`,
    );
  }
  const ours = results.map((result) => result.input);
  const fresh = results.map((result) => result.fresh);
  const naive = results.map((result) => result.naive);
  const ratio = (a: number, b: number) => `${(a / b).toFixed(1)}×`;
  console.log(
    `our input tokens per answer (all calls): median ${num(median(ours), 0)}, max ${num(Math.max(...ours), 0)}; ` +
      `billed as fresh with the prefix cached: median ${num(median(fresh), 0)}, max ${num(Math.max(...fresh), 0)}`,
  );
  console.log(`naive (period's cost table pasted, one call): median ${num(median(naive), 0)}, max ${num(Math.max(...naive), 0)}`);
  console.log(
    `naive / ours: median ${ratio(median(naive), median(ours))} (fresh: ${ratio(median(naive), median(fresh))}), ` +
      `max ${ratio(Math.max(...naive), Math.max(...ours))} (fresh: ${ratio(Math.max(...naive), Math.max(...fresh))})`,
  );
}

/** The median (the mean of the middle two for an even count). */
function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : Math.round((sorted[middle - 1]! + sorted[middle]!) / 2);
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(1);
}
