/**
 * The AI answer loop: a question (with the thread's earlier turns) goes to the model with
 * the read-only tools; tool calls are run and returned for at most a few rounds; the answer
 * comes back with its basis and its own cost. Whatever goes wrong with the model — no model
 * configured, throttling, timeouts, a refusal, too many rounds — the question still gets the
 * deterministic explanation, saying why. Limits (answer length, rounds, time, question
 * length, answers per person per hour) are enforced here, not in the prompt.
 */
import { addUsage, costOf, formatNanoUsd, type ModelPrice, NO_USAGE, priceOf, type TokenUsage } from '../../core/ai-pricing.js';
import { TOTAL_FACET } from '../../core/cost-model.js';
import { isFinOpsError } from '../../core/errors.js';
import { formatRange, type PeriodSpec, resolvePeriod, todayIn } from '../../core/period.js';
import { errorReply, type Reply, type ReplyBlock } from '../../core/reply.js';
import type { AiUsageLedger, ConversationStore, ConversationTurn, LanguageModel, ModelContent, ModelMessage } from '../../ports.js';
import type { RequestContext } from '../engine.js';
import { freshnessText, type HandlerDeps, labelOf, loadFreshness } from '../report-context.js';
import { accessFor, permittedTeam, type TeamAccess } from '../team-access.js';
import { explainSpend } from './explainer.js';
import { untracedAmounts } from './grounding.js';
import { toChatMarkdown } from './markdown.js';
import { readQuestion } from './question.js';
import { runTool, toolsFor } from './tools.js';

/** Bounds on what one answer may use. */
export interface AiLimits {
  /** Most tokens the model may write per turn (always sent). */
  readonly maxTokens: number;
  /** Most model turns that may call tools. */
  readonly maxToolRounds: number;
  /** Most time for the whole answer, tool calls included. */
  readonly timeoutMs: number;
  readonly maxQuestionChars: number;
  /** Most AI answers per person per hour, across instances. */
  readonly answersPerHour: number;
  /** Earlier turns of the thread given to the model, at most this many … */
  readonly historyTurns: number;
  /** … and at most this many characters of them (older turns are dropped first). */
  readonly historyChars: number;
}

/** The limits used unless configured otherwise. */
export const DEFAULT_AI_LIMITS: AiLimits = {
  maxTokens: 1024,
  maxToolRounds: 6,
  timeoutMs: 60_000,
  maxQuestionChars: 2_000,
  answersPerHour: 30,
  historyTurns: 12,
  historyChars: 8_000,
};

/** The reviewed prompt texts (prompts/). */
export interface Prompts {
  readonly system: string;
  /** The `explain` request, with `{{period}}` and `{{scope}}`. */
  readonly explain: string;
}

/** What AI answers need besides the cost store. */
export interface AiDeps {
  /** Absent: answers come from the deterministic explainer, announced as such. */
  readonly model?: LanguageModel | undefined;
  readonly conversations?: ConversationStore | undefined;
  readonly usage?: AiUsageLedger | undefined;
  readonly prompts: Prompts;
  readonly limits: AiLimits;
  /** The operator's price for the model, when the list price is not the one paid. */
  readonly price?: ModelPrice | undefined;
  readonly logger: { warn(details: object, message: string): void };
}

/** Progress a chat can show while an answer is being written. */
export interface AnswerHooks {
  /** A short status ("is looking at Cost Explorer data…"). */
  readonly onStatus?: ((status: string) => void) | undefined;
  /**
   * Answer text (Markdown) as it is written. When it was called, the reply's first block
   * is that same text, joined and in the reply's markup; the other blocks (notes, basis,
   * cost) are what a chat adds when it finishes the streamed message.
   */
  readonly onText?: ((delta: string) => void) | undefined;
}

/** What the model said and did in one answer. */
interface ModelRun {
  readonly text: string;
  readonly usage: TokenUsage;
  readonly rounds: number;
  readonly toolCalls: number;
  readonly toolTexts: readonly string[];
  readonly bases: readonly string[];
  /** Why the model's answer is not used, or a note to show under it. */
  readonly fallback?: string | undefined;
  readonly note?: string | undefined;
}

/** Answers questions and explanations, with the model when there is one. */
export class AiAnswerer {
  constructor(
    private readonly deps: HandlerDeps,
    private readonly ai: AiDeps,
  ) {}

  /** Whether a language model is configured. */
  get hasModel(): boolean {
    return this.ai.model !== undefined;
  }

  /** `ask QUESTION` and questions in plain words. */
  async ask(question: string, context: RequestContext, hooks: AnswerHooks = {}): Promise<Reply> {
    const trimmed = question.trim();
    if (trimmed === '') return errorReply('Ask me something about your cloud spend, for example `ask why did our spend go up last week?`');
    if (trimmed.length > this.ai.limits.maxQuestionChars) {
      return errorReply(`That question is ${trimmed.length} characters long; I take up to ${this.ai.limits.maxQuestionChars}. Please shorten it.`);
    }
    return this.answer(trimmed, context, hooks, async (access) => {
      const known = { teams: await this.deps.store.listTeams(), services: (await this.recentServices()).map((row) => row.key) };
      const read = readQuestion(trimmed, known, todayIn(this.deps.settings.timeZone, this.deps.clock.now()));
      return { period: read.period, team: permittedTeam(access, read.team), services: read.services };
    });
  }

  /** `explain [PERIOD] [for TEAM]`. */
  async explain(request: { period?: PeriodSpec | undefined; team?: string | undefined }, context: RequestContext, hooks: AnswerHooks = {}): Promise<Reply> {
    const access = accessFor(this.deps, context);
    const team = permittedTeam(access, request.team);
    const period = resolvePeriod(request.period ?? { kind: 'last-days', days: 7 }, todayIn(this.deps.settings.timeZone, this.deps.clock.now()));
    const question = this.ai.prompts.explain
      .replaceAll('{{period}}', `${period.label} (${formatRange(period)})`)
      .replaceAll('{{scope}}', team === undefined ? 'for the whole organisation' : `for the team ${labelOf(team)}`)
      .trim();
    return this.answer(question, context, hooks, async () => ({ period: request.period, team, services: [] }), { remember: false });
  }

  private async answer(
    question: string,
    context: RequestContext,
    hooks: AnswerHooks,
    fallbackScope: (access: TeamAccess) => Promise<{ period: PeriodSpec | undefined; team: string | undefined; services: readonly string[] }>,
    options: { remember: boolean } = { remember: true },
  ): Promise<Reply> {
    const access = accessFor(this.deps, context);
    const requester = `${context.channel}:${context.userId ?? 'anonymous'}`;
    const key = conversationKey(context);
    const model = this.ai.model;
    if (model && this.ai.usage) {
      const recent = await this.ai.usage.countSince(requester, new Date(this.deps.clock.now().getTime() - 3_600_000));
      if (recent >= this.ai.limits.answersPerHour) {
        return errorReply(
          `You have had ${recent} AI answers in the last hour, the most I give one person. Commands such as \`top 7d\` or \`cost 30d by service\` still answer at once.`,
        );
      }
    }
    const streamed = streamWriter(hooks);
    let run: ModelRun | undefined;
    if (model) {
      hooks.onStatus?.('is looking at your cost data…');
      const history = key && this.ai.conversations ? await this.ai.conversations.recent(key, this.ai.limits.historyTurns) : [];
      run = await this.runModel(model, question, history, access, hooks, streamed);
    }
    let text = run && !run.fallback ? run.text : '';
    const notes: string[] = [];
    let basis = run && !run.fallback ? run.bases : [];
    if (!run || run.fallback) {
      const scope = await fallbackScope(access);
      const explanation = await explainSpend(this.deps, scope);
      const intro = run?.fallback ? `${run.fallback} Here is the built-in explanation from the data instead.` : undefined;
      const narrative = explanation.paragraphs.join('\n\n');
      if (streamed.text !== '') streamed.write(`\n\n${intro ?? ''}\n\n${narrative}`);
      else if (streamed.active) streamed.write(intro ? `${intro}\n\n${narrative}` : narrative);
      text = streamed.active ? streamed.text : intro ? `${intro}\n\n${narrative}` : narrative;
      basis = [explanation.basis];
    } else if (run.note) {
      notes.push(run.note);
    }
    if (run && !run.fallback) {
      const untraced = untracedAmounts(text, run.toolTexts);
      if (untraced.length > 0) notes.push(`I could not trace ${untraced.join(', ')} to the data the tools returned; treat ${untraced.length === 1 ? 'it' : 'them'} with care.`);
    }
    const cost = this.costLine(run);
    await this.remember(options.remember ? key : undefined, question, text, requester, run, cost.nano);
    const blocks: ReplyBlock[] = [{ type: 'text', text: toChatMarkdown(text) }];
    for (const note of notes) blocks.push({ type: 'context', text: `⚠ ${note}` });
    blocks.push({ type: 'context', text: await this.basisLine(basis) });
    blocks.push({ type: 'context', text: cost.line });
    return { kind: 'answer', title: run && !run.fallback ? 'AI answer' : 'Explanation from the data', blocks };
  }

  private async runModel(model: LanguageModel, question: string, history: readonly ConversationTurn[], access: TeamAccess, hooks: AnswerHooks, streamed: StreamWriter): Promise<ModelRun> {
    const limits = this.ai.limits;
    const tools = toolsFor(access);
    const messages: ModelMessage[] = [...historyMessages(history, limits.historyChars), { role: 'user', content: [{ type: 'text', text: await this.framed(question, access) }] }];
    const signal = AbortSignal.timeout(limits.timeoutMs);
    let usage = NO_USAGE;
    let rounds = 0;
    let toolCalls = 0;
    const texts: string[] = [];
    const toolTexts: string[] = [];
    const bases = new Set<string>();
    const result = (extra: Partial<ModelRun>): ModelRun => ({ text: texts.join('\n\n'), usage, rounds, toolCalls, toolTexts, bases: [...bases], ...extra });
    try {
      for (;;) {
        rounds++;
        streamed.separate();
        const response = await model.converse({
          system: this.ai.prompts.system,
          messages,
          tools,
          maxTokens: limits.maxTokens,
          cachePrefix: model.supportsPromptCache,
          signal,
          onText: streamed.active ? (delta) => streamed.write(delta) : undefined,
        });
        usage = addUsage(usage, response.usage);
        messages.push({ role: 'assistant', content: response.content });
        const said = response.content.flatMap((block) => (block.type === 'text' && block.text.trim() !== '' ? [block.text.trim()] : []));
        texts.push(...said);
        if (response.stopReason === 'guardrail_intervened' || response.stopReason === 'content_filtered') {
          return result({ fallback: 'The model declined to answer this (a content filter stopped it).' });
        }
        if (response.stopReason !== 'tool_use') {
          if (texts.length === 0) return result({ fallback: 'The model gave no answer.' });
          return result({ note: response.stopReason === 'max_tokens' ? `The answer reached its length limit (${limits.maxTokens} tokens) and was cut short.` : undefined });
        }
        if (rounds >= limits.maxToolRounds) return result({ fallback: `The model needed more than ${limits.maxToolRounds} rounds of data lookups.` });
        const uses = response.content.filter((block): block is Extract<ModelContent, { type: 'tool_use' }> => block.type === 'tool_use');
        hooks.onStatus?.(`is reading ${[...new Set(uses.map((use) => use.name.replaceAll('_', ' ')))].join(', ')}…`);
        const results: ModelContent[] = [];
        for (const use of uses) {
          toolCalls++;
          const { output, isError } = await runTool(this.deps, access, use.name, use.input);
          if (isError) this.ai.logger.warn({ tool: use.name.slice(0, 60), error: output.text.slice(0, 200) }, 'AI tool call refused');
          else toolTexts.push(output.text);
          if (output.basis) bases.add(output.basis);
          results.push({ type: 'tool_result', id: use.id, text: output.text, isError });
        }
        if (rounds === limits.maxToolRounds - 1) results.push({ type: 'text', text: 'That was the last round of data lookups: answer now with the results you have.' });
        messages.push({ role: 'user', content: results });
      }
    } catch (error) {
      if (signal.aborted) return result({ fallback: `The model took longer than ${Math.round(limits.timeoutMs / 1000)} s.` });
      if (isFinOpsError(error, 'model_throttled') || isFinOpsError(error, 'model_unavailable') || isFinOpsError(error, 'model_denied')) {
        this.ai.logger.warn({ code: error.code, err: error.cause ?? error }, 'AI model call failed; answering with the built-in explanation');
        return result({ fallback: error.message });
      }
      throw error;
    }
  }

  /** The question with what the model needs to read it: today, the data's freshness, what the conversation may see. */
  private async framed(question: string, access: TeamAccess): Promise<string> {
    const freshness = await loadFreshness(this.deps.store, [TOTAL_FACET]);
    const today = todayIn(this.deps.settings.timeZone, this.deps.clock.now());
    const sees = access.kind === 'all' ? 'every team' : `only these teams: ${access.teams.map(labelOf).join(', ')}`;
    return [
      `Today is ${today} (${this.deps.settings.timeZone}). Cost data is through ${freshness.dataThrough ?? 'nothing yet'}. This conversation may see ${sees}.`,
      'The question, as the person wrote it:',
      question,
    ].join('\n');
  }

  private async recentServices() {
    const freshness = await loadFreshness(this.deps.store, [TOTAL_FACET]);
    if (!freshness.dataThrough) return [];
    const end = freshness.dataThrough;
    const start = new Date(Date.parse(`${end}T00:00:00Z`) - 90 * 86_400_000).toISOString().slice(0, 10);
    return this.deps.store.sumBy('service', 'value', { range: { start, end }, metric: this.deps.settings.defaultMetric });
  }

  private async basisLine(bases: readonly string[]): Promise<string> {
    if (bases.length > 0) return `Basis: ${bases.slice(0, 3).join(' | ')}${bases.length > 3 ? ` | and ${bases.length - 3} more` : ''}`;
    const freshness = await loadFreshness(this.deps.store, [TOTAL_FACET]);
    return `Basis: no cost figures were read for this answer · ${freshnessText(this.deps, freshness)}`;
  }

  private costLine(run: ModelRun | undefined): { line: string; nano: bigint | undefined } {
    const model = this.ai.model;
    const lookups = 'Cost Explorer requests: none (answered from the synced data)';
    if (!model) return { line: `Written without an AI model (BEDROCK_MODEL_ID is not set) · AI cost: none · ${lookups}`, nano: 0n };
    const usage = run?.usage ?? NO_USAGE;
    const price = priceOf(model.modelId, this.ai.price);
    const nano = price ? costOf(usage, price) : undefined;
    const tokens = `${usage.input.toLocaleString('en-US')} input tokens${usage.cacheRead || usage.cacheWrite ? ` (+${usage.cacheRead.toLocaleString('en-US')} read from cache, ${usage.cacheWrite.toLocaleString('en-US')} written to it)` : ''}, ${usage.output.toLocaleString('en-US')} output`;
    const dollars = nano === undefined ? 'price unknown for this model' : formatNanoUsd(nano);
    const steps = run ? ` · ${run.rounds} model ${run.rounds === 1 ? 'turn' : 'turns'}, ${run.toolCalls} tool ${run.toolCalls === 1 ? 'call' : 'calls'}` : '';
    return { line: `AI cost: ${model.modelId}${steps} · ${tokens} · ${dollars} · ${lookups}`, nano };
  }

  /** Keeps the turn for follow-ups and records the spend; a failure here is logged, never lost in the answer. */
  private async remember(key: string | undefined, question: string, answer: string, requester: string, run: ModelRun | undefined, nano: bigint | undefined): Promise<void> {
    const at = this.deps.clock.now();
    try {
      if (key && this.ai.conversations) {
        await this.ai.conversations.append(key, [
          { role: 'user', text: question, at },
          { role: 'assistant', text: answer, at },
        ]);
      }
      await this.ai.usage?.record({
        at,
        model: this.ai.model?.modelId ?? 'deterministic',
        requester,
        usage: run?.usage ?? NO_USAGE,
        costNanoUsd: nano,
        toolCalls: run?.toolCalls ?? 0,
        outcome: run && !run.fallback ? 'answered' : 'fallback',
      });
    } catch (error) {
      this.ai.logger.warn({ err: error }, 'could not record the AI answer (memory or usage)');
    }
  }
}

/** Where a conversation's memory is kept: the thread (or the conversation, without threads). */
export function conversationKey(context: RequestContext): string | undefined {
  if (context.conversationId === undefined) return undefined;
  return context.threadId === undefined ? undefined : `${context.channel}:${context.conversationId}:${context.threadId}`;
}

/**
 * Earlier turns as model messages: the newest first until `maxChars` is spent, starting
 * with a question, with one message per role in turn (the Converse API requires it).
 */
export function historyMessages(turns: readonly ConversationTurn[], maxChars: number): ModelMessage[] {
  const kept: ConversationTurn[] = [];
  let used = 0;
  for (const turn of [...turns].reverse()) {
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

interface StreamWriter {
  readonly active: boolean;
  readonly text: string;
  write(delta: string): void;
  /** A blank line before the next text, when something was written already. */
  separate(): void;
}

function streamWriter(hooks: AnswerHooks): StreamWriter {
  let text = '';
  let pending = false;
  return {
    active: hooks.onText !== undefined,
    get text() {
      return text;
    },
    write(delta) {
      if (delta === '') return;
      if (pending && text !== '') {
        text += '\n\n';
        hooks.onText?.('\n\n');
      }
      pending = false;
      text += delta;
      hooks.onText?.(delta);
    },
    separate() {
      pending = true;
    },
  };
}
