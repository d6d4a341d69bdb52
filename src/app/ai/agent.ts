/**
 * The AI answer loop: a question (with the thread's earlier turns) goes to the model with
 * the read-only tools; tool calls are run and returned for at most a few rounds; the answer
 * comes back with its basis and its own cost. Whatever goes wrong with the model — no model
 * configured, throttling, timeouts, a refusal, too many rounds — the question still gets the
 * deterministic explanation, saying why. Limits (answer length, rounds, time, question
 * length, answers per person per hour) are enforced here, not in the prompt.
 */
import { costOf, formatNanoUsd, type ModelPrice, NO_USAGE, priceOf } from '../../core/ai-pricing.js';
import { TOTAL_FACET } from '../../core/cost-model.js';
import { addDays, formatRange, type PeriodSpec, resolvePeriod, todayIn } from '../../core/period.js';
import { errorReply, type Reply, type ReplyBlock } from '../../core/reply.js';
import type { AiUsageLedger, ConversationStore, LanguageModel } from '../../ports.js';
import type { RequestContext } from '../engine.js';
import { type Freshness, freshnessText, type HandlerDeps, labelOf, loadFreshness } from '../report-context.js';
import { accessFor, permittedTeam, type TeamAccess } from '../team-access.js';
import { explainSpend } from './explainer.js';
import { untracedAmounts } from './grounding.js';
import { toChatMarkdown } from './markdown.js';
import { readQuestion } from './question.js';
import { historyMessages, type ModelRun, runModel, streamWriter } from './model-run.js';
import { toolsFor } from './tools.js';

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

/** Answers questions and explanations, with the model when there is one. */
export class AiAnswerer {
  /** AI answers being written for each person on this instance (the ledger counts them once written). */
  private readonly inFlight = new Map<string, number>();

  constructor(
    private readonly deps: HandlerDeps,
    private readonly ai: AiDeps,
  ) {}

  /** `ask QUESTION` and questions in plain words. */
  async ask(question: string, context: RequestContext, hooks: AnswerHooks = {}): Promise<Reply> {
    const trimmed = question.trim();
    if (trimmed === '') return errorReply('Ask me something about your cloud spend, for example `ask why did our spend go up last week?`');
    if (trimmed.length > this.ai.limits.maxQuestionChars) {
      return errorReply(`That question is ${trimmed.length} characters long; I take up to ${this.ai.limits.maxQuestionChars}. Please shorten it.`);
    }
    return this.answer(trimmed, context, hooks, async (access, freshness) => {
      const known = { teams: await this.deps.store.listTeams(), services: await this.recentServices(freshness) };
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
    return this.answer(question, context, hooks, async () => ({ period: request.period, team, services: [] }));
  }

  private async answer(
    question: string,
    context: RequestContext,
    hooks: AnswerHooks,
    fallbackScope: (access: TeamAccess, freshness: Freshness) => Promise<{ period: PeriodSpec | undefined; team: string | undefined; services: readonly string[] }>,
  ): Promise<Reply> {
    const access = accessFor(this.deps, context);
    if (access.kind === 'teams' && access.teams.length === 0) return errorReply("This conversation can't see any team's spend.");
    const freshness = await loadFreshness(this.deps.store, [TOTAL_FACET]);
    const requester = `${context.channel}:${context.userId ?? 'anonymous'}`;
    const key = conversationKey(context);
    const stream = hooks.onText ? streamWriter(hooks.onText) : undefined;
    const overLimit = await this.overLimit(requester);
    const model = overLimit ? undefined : this.ai.model;
    let run: ModelRun | undefined;
    if (model) {
      this.inFlight.set(requester, (this.inFlight.get(requester) ?? 0) + 1);
      try {
        hooks.onStatus?.('is looking at your cost data…');
        const history = key && this.ai.conversations ? await this.ai.conversations.recent(key, this.ai.limits.historyTurns) : [];
        run = await runModel(this.deps, {
          model,
          system: this.ai.prompts.system,
          history: historyMessages(history, this.ai.limits.historyChars),
          question: this.framed(question, access, freshness),
          tools: toolsFor(access),
          access,
          limits: this.ai.limits,
          onStatus: hooks.onStatus,
          stream,
          logger: this.ai.logger,
        });
      } catch (error) {
        const spent = (error as { run?: ModelRun }).run;
        if (spent) await this.remember(undefined, question, '', requester, { ...spent, fallback: 'failed' });
        throw error;
      } finally {
        this.inFlight.set(requester, (this.inFlight.get(requester) ?? 1) - 1);
      }
    }
    const answered = run !== undefined && run.fallback === undefined;
    let text = answered ? run!.text : '';
    let basis = answered ? run!.bases : [];
    const notes: string[] = [];
    if (!answered) {
      const reason = overLimit ?? run?.fallback;
      const intro = reason ? `${reason} Here is the built-in explanation from the data instead.` : undefined;
      let narrative: string;
      try {
        const explanation = await explainSpend(this.deps, await fallbackScope(access, freshness));
        narrative = explanation.paragraphs.join('\n\n');
        basis = [explanation.basis];
      } catch (error) {
        // No data, a team this conversation cannot see, the database: the engine says so; what the model spent is kept.
        await this.remember(undefined, question, '', requester, run);
        throw error;
      }
      const written = intro ? `${intro}\n\n${narrative}` : narrative;
      if (stream) {
        stream.separate();
        stream.write(written);
      }
      text = stream ? stream.text : written;
    } else if (run!.note) {
      notes.push(run!.note);
    }
    if (answered) {
      const untraced = untracedAmounts(text, run!.toolTexts);
      if (untraced.length > 0) notes.push(`I could not trace ${untraced.join(', ')} to the data the tools returned; treat ${untraced.length === 1 ? 'it' : 'them'} with care.`);
    }
    await this.remember(key, question, text, requester, run);
    const blocks: ReplyBlock[] = [{ type: 'text', text: toChatMarkdown(text) }];
    for (const note of notes) blocks.push({ type: 'context', text: `⚠ ${note}` });
    blocks.push({ type: 'context', text: this.basisLine(basis, freshness) });
    blocks.push({ type: 'context', text: this.costLine(run) });
    return { kind: 'answer', title: answered ? 'AI answer' : 'Explanation from the data', blocks, ...(answered ? { oneOff: true } : {}) };
  }

  /** The sentence that replaces the model for a person over the hourly limit (counting answers still being written). */
  private async overLimit(requester: string): Promise<string | undefined> {
    if (!this.ai.model || !this.ai.usage) return undefined;
    const since = new Date(this.deps.clock.now().getTime() - 3_600_000);
    const recent = (await this.ai.usage.countSince(requester, since)) + (this.inFlight.get(requester) ?? 0);
    if (recent < this.ai.limits.answersPerHour) return undefined;
    return `You have had ${recent} AI answers in the last hour, the most I give one person.`;
  }

  /** The question with what the model needs to read it: today, the data's freshness, what the conversation may see. */
  private framed(question: string, access: TeamAccess, freshness: Freshness): string {
    const today = todayIn(this.deps.settings.timeZone, this.deps.clock.now());
    const sees = access.kind === 'all' ? 'every team' : `only these teams: ${access.teams.map(labelOf).join(', ')}`;
    return [
      `Today is ${today} (${this.deps.settings.timeZone}). Cost data is through ${freshness.dataThrough ?? 'nothing yet'}. This conversation may see ${sees}.`,
      'The question, as the person wrote it:',
      question,
    ].join('\n');
  }

  /** Services with spend in the 90 days before the data's end: the names a question may mention. */
  private async recentServices(freshness: Freshness): Promise<string[]> {
    if (!freshness.dataThrough) return [];
    const end = addDays(freshness.dataThrough, 1);
    const rows = await this.deps.store.sumBy('service', 'value', { range: { start: addDays(end, -90), end }, metric: this.deps.settings.defaultMetric });
    return rows.map((row) => row.key);
  }

  private basisLine(bases: readonly string[], freshness: Freshness): string {
    if (bases.length > 0) return `Basis: ${bases.slice(0, 3).join(' | ')}${bases.length > 3 ? ` | and ${bases.length - 3} more` : ''}`;
    return `Basis: no cost figures were read for this answer · ${freshnessText(this.deps, freshness)}`;
  }

  /** What a run cost in nano-dollars: nothing without a model, undefined when the model's price is unknown. */
  private costOf(run: ModelRun | undefined): bigint | undefined {
    if (!this.ai.model) return 0n;
    const price = priceOf(this.ai.model.modelId, this.ai.price);
    return price ? costOf(run?.usage ?? NO_USAGE, price) : undefined;
  }

  private costLine(run: ModelRun | undefined): string {
    const model = this.ai.model;
    const lookups = 'Cost Explorer requests: none (answered from the synced data)';
    if (!model) return `Written without an AI model (BEDROCK_MODEL_ID is not set) · AI cost: none · ${lookups}`;
    const usage = run?.usage ?? NO_USAGE;
    const nano = this.costOf(run);
    const tokens = `${usage.input.toLocaleString('en-US')} input tokens${usage.cacheRead || usage.cacheWrite ? ` (+${usage.cacheRead.toLocaleString('en-US')} read from cache, ${usage.cacheWrite.toLocaleString('en-US')} written to it)` : ''}, ${usage.output.toLocaleString('en-US')} output`;
    const dollars = nano === undefined ? 'price unknown for this model' : formatNanoUsd(nano);
    const steps = run ? ` · ${run.rounds} model ${run.rounds === 1 ? 'turn' : 'turns'}, ${run.toolCalls} tool ${run.toolCalls === 1 ? 'call' : 'calls'}` : '';
    return `AI cost: ${model.modelId}${steps} · ${tokens} · ${dollars} · ${lookups}`;
  }

  /** Keeps the turn for follow-ups and records the spend; a failure here is logged, never lost in the answer. */
  private async remember(key: string | undefined, question: string, answer: string, requester: string, run: ModelRun | undefined): Promise<void> {
    const at = this.deps.clock.now();
    try {
      if (key && this.ai.conversations && answer !== '') {
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
        costNanoUsd: this.costOf(run),
        toolCalls: run?.toolCalls ?? 0,
        outcome: run && !run.fallback ? 'answered' : 'fallback',
      });
    } catch (error) {
      this.ai.logger.warn({ err: error }, 'could not record the AI answer (memory or usage)');
    }
  }
}

/** Where a conversation's memory is kept: its thread; none for a request outside a thread (a slash command). */
export function conversationKey(context: RequestContext): string | undefined {
  if (context.conversationId === undefined) return undefined;
  return context.threadId === undefined ? undefined : `${context.channel}:${context.conversationId}:${context.threadId}`;
}
