/**
 * The command engine: one line of the command language in, one channel-neutral reply out.
 * Slack, Teams and the console all call it. This is the one place where failures become
 * sentences: a user never sees a stack trace, and unexpected errors are logged with the
 * command that caused them.
 */
import { errorReply, type Reply } from '../core/reply.js';
import type { Command, CommandName } from './command.js';
import { handleCost } from './handlers/cost.js';
import { handleForecast } from './handlers/forecast.js';
import { handleHelp } from './handlers/help.js';
import { handleStatus } from './handlers/status.js';
import { handleTags } from './handlers/tags.js';
import { handleDigest } from './handlers/digest.js';
import { handleSubscribe, handleSubscriptions } from './handlers/subscriptions.js';
import { handleTop } from './handlers/top.js';
import { parseCommand, stripInvocation } from './parse-command.js';
import { AiAnswerer, type AiDeps, type AnswerHooks, conversationKey, DEFAULT_AI_LIMITS } from './ai/agent.js';
import { handleAiUsage } from './handlers/ai-usage.js';
import { handleAnomalies } from './handlers/anomalies.js';
import { handleBudget } from './handlers/budget.js';
import { handleApprovers, handleAudit, handleRightsizing } from './handlers/rightsizing.js';
import { accessFor, permittedTeam, seesEveryTeam } from './team-access.js';
import { FinOpsError, isFinOpsError } from '../core/errors.js';
import type { HandlerDeps } from './report-context.js';
import type { AwsBudgetsSource, SubscriptionStore } from '../ports.js';

/** Who is asking and where; channels fill in what they know. */
export interface RequestContext {
  readonly channel: 'console' | 'slack' | 'teams';
  readonly userId?: string;
  readonly conversationId?: string;
  /** The thread the request was made in (Slack thread ts), which keeps an AI conversation's memory. */
  readonly threadId?: string;
}

/** Where the engine reports failures it did not expect. */
export interface EngineLogger {
  error(details: object, message: string): void;
  warn(details: object, message: string): void;
}

/** The subcommands this build answers, in the order `help` lists them. */
export const OFFERED_COMMANDS: readonly CommandName[] = [
  'help',
  'cost',
  'top',
  'forecast',
  'tags',
  'budget',
  'anomalies',
  'rightsizing',
  'approvers',
  'audit',
  'ask',
  'explain',
  'digest',
  'subscribe',
  'unsubscribe',
  'subscriptions',
  'ai-usage',
  'status',
];

/** What the engine works with: the cost store, and for digests the subscriptions, for AI answers the model and its memory. */
export interface EngineDeps extends HandlerDeps {
  /** AWS Budgets, listed beside ours by `budget` (the `aws` source only). */
  readonly awsBudgets?: AwsBudgetsSource | undefined;
  readonly subscriptions?: SubscriptionStore | undefined;
  /** Absent: AI answers come from the deterministic explainer with no memory or usage ledger. */
  readonly ai?: Omit<AiDeps, 'logger'> | undefined;
}

const SUBSCRIPTION_COMMANDS: readonly CommandName[] = ['subscribe', 'unsubscribe', 'subscriptions'];
const RIGHTSIZING_COMMANDS: readonly CommandName[] = ['rightsizing', 'approvers', 'audit'];

/** Words that open a question rather than a mistyped subcommand. */
const QUESTION_WORDS = new Set([
  'why', 'what', 'whats', "what's", 'how', 'which', 'when', 'where', 'who', 'is', 'are', 'was', 'were', 'did', 'does', 'do',
  'can', 'could', 'should', 'will', 'would', 'show', 'tell', 'give', 'list', 'compare', 'summarize', 'summarise', 'and', 'hey', 'hi', 'hello', 'please',
]);

/** Prompts used when none were loaded (a bare engine): the deterministic explainer needs none. */
const NO_PROMPTS = { system: '', explain: 'Explain what changed {{scope}} over {{period}}.' };

/** Answers commands from stored cost data. */
export class CommandEngine {
  readonly offered: readonly CommandName[];
  private readonly ai: AiAnswerer;

  constructor(
    private readonly deps: EngineDeps,
    private readonly logger: EngineLogger,
  ) {
    // Without a subscription store (a bare engine in tests or tools) there is nothing to
    // subscribe to; without a usage ledger there is no AI spend to show.
    this.offered = OFFERED_COMMANDS.filter(
      (name) =>
        (deps.subscriptions || !SUBSCRIPTION_COMMANDS.includes(name)) &&
        (deps.ai?.usage || name !== 'ai-usage') &&
        (deps.anomalies || name !== 'anomalies') &&
        (deps.budgets || name !== 'budget') &&
        (deps.rightsizing || !RIGHTSIZING_COMMANDS.includes(name)),
    );
    this.ai = new AiAnswerer(deps, { prompts: NO_PROMPTS, limits: DEFAULT_AI_LIMITS, ...deps.ai, logger });
  }

  /**
   * Parses and answers one line; a question in plain words gets an AI answer. `hooks` let a
   * chat show progress and stream the AI answer as it is written. Never throws.
   */
  async handle(line: string, context: RequestContext, hooks: AnswerHooks = {}): Promise<Reply> {
    const parsed = parseCommand(line, this.offered);
    if (!parsed.ok) {
      if (looksLikeQuestion(line, parsed.failure.freeText === true)) return this.guarded(line, context, () => this.ai.ask(stripInvocation(line), context, hooks));
      return errorReply(parsed.failure.message, parsed.failure.hint);
    }
    return this.guarded(line, context, () => this.answer(parsed.command, context, hooks));
  }

  /** Runs `work`, turning every failure into a sentence. */
  private async guarded(line: string, context: RequestContext, work: () => Promise<Reply>): Promise<Reply> {
    try {
      return await work();
    } catch (error) {
      if (isFinOpsError(error)) return errorReply(error.message);
      this.logger.error({ err: error, command: stripInvocation(line).slice(0, 200), channel: context.channel }, 'command failed');
      return errorReply(`Something went wrong on my side while answering \`${stripInvocation(line).slice(0, 80)}\`. It has been logged; please try again.`);
    }
  }

  /**
   * Whether a message continues an AI conversation the bot is part of (its thread has
   * remembered turns), so a reply in the thread is answered without mentioning the bot.
   */
  async continuesConversation(context: RequestContext): Promise<boolean> {
    const key = conversationKey(context);
    if (!key || !this.deps.ai?.conversations) return false;
    return (await this.deps.ai.conversations.recent(key, 1)).length > 0;
  }

  /**
   * The dashboard a chat app shows on its home tab: this month's spend by team with its
   * change and freshness, the month-end forecast, and the last week's anomalies.
   */
  async dashboard(context: RequestContext): Promise<Reply[]> {
    const [spend, forecast, anomalies] = await Promise.all([
      this.handle('cost mtd by team', context),
      this.handle('forecast', context),
      this.offered.includes('anomalies') ? this.handle('anomalies 7d', context) : undefined,
    ]);
    // The week's anomalies when there is something to show the viewer (not a refusal).
    return anomalies?.kind === 'answer' ? [spend, forecast, anomalies] : [spend, forecast];
  }

  private async answer(command: Command, context: RequestContext, hooks: AnswerHooks): Promise<Reply> {
    const access = accessFor(this.deps, context);
    switch (command.name) {
      case 'help':
        return handleHelp(command, this.offered);
      case 'cost':
        return handleCost(this.deps, { ...command, team: permittedTeam(access, command.team) });
      case 'top':
        return handleTop(this.deps, { ...command, team: permittedTeam(access, command.team) });
      case 'forecast':
        return handleForecast(this.deps, { ...command, team: permittedTeam(access, command.team) });
      case 'tags':
        if (!seesEveryTeam(access)) throw new FinOpsError('command_invalid', 'Tag coverage looks at the whole organisation, which this conversation cannot see.');
        return handleTags(this.deps, command);
      case 'budget':
        return handleBudget({ ...this.deps, budgets: this.deps.budgets! }, command, access, context.userId);
      case 'anomalies':
        return handleAnomalies({ ...this.deps, anomalies: this.deps.anomalies! }, { ...command, team: permittedTeam(access, command.team) });
      case 'rightsizing':
        return handleRightsizing({ ...this.deps, rightsizing: this.deps.rightsizing! }, command, access, context);
      case 'approvers':
        return handleApprovers({ ...this.deps, rightsizing: this.deps.rightsizing! }, command, access, context);
      case 'audit':
        return handleAudit({ ...this.deps, rightsizing: this.deps.rightsizing! }, command, access);
      case 'ask':
        return this.ai.ask(command.question, context, hooks);
      case 'explain':
        return this.ai.explain({ period: command.period, team: command.team }, context, hooks);
      case 'ai-usage':
        return handleAiUsage({ ...this.deps, usage: this.deps.ai!.usage!, modelId: this.deps.ai?.model?.modelId }, command);
      case 'status':
        return handleStatus(this.deps, this.deps.ai?.model?.modelId, access);
      case 'digest':
        return handleDigest(this.deps, { ...command, team: permittedTeam(access, command.team) });
      case 'subscribe':
        return handleSubscribe({ ...this.deps, subscriptions: this.deps.subscriptions! }, { ...command, team: permittedTeam(access, command.team) }, context);
      case 'unsubscribe':
        // Removing a digest shows nothing, and a channel confined after subscribing must be able to.
        return handleSubscribe({ ...this.deps, subscriptions: this.deps.subscriptions! }, command, context);
      case 'subscriptions':
        return handleSubscriptions({ ...this.deps, subscriptions: this.deps.subscriptions! }, context);
      default:
        // The parser only lets offered subcommands through.
        throw new Error(`no handler for ${(command as Command).name}`);
    }
  }
}

/**
 * A question in plain words rather than a mistyped subcommand: it has a question mark,
 * opens with a question word, or (when no subcommand is close to its first word) has
 * several words.
 */
function looksLikeQuestion(line: string, noCloseSubcommand: boolean): boolean {
  const text = stripInvocation(line);
  const first = text.split(/\s+/)[0]?.toLowerCase().replace(/[,.!?:]+$/, '') ?? '';
  return text.includes('?') || QUESTION_WORDS.has(first) || (noCloseSubcommand && text.split(/\s+/).length >= 3);
}
