/**
 * The command engine: one line of the command language in, one channel-neutral reply out.
 * Slack, Teams and the console all call it. This is the one place where failures become
 * sentences: a user never sees a stack trace, and unexpected errors are logged with the
 * command that caused them.
 */
import { isFinOpsError } from '../core/errors.js';
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
import type { HandlerDeps } from './report-context.js';
import type { SubscriptionStore } from '../ports.js';

/** Who is asking and where; channels fill in what they know. */
export interface RequestContext {
  readonly channel: 'console' | 'slack' | 'teams';
  readonly userId?: string;
  readonly conversationId?: string;
}

/** Where the engine reports failures it did not expect. */
export interface EngineLogger {
  error(details: object, message: string): void;
}

/** The subcommands this build answers, in the order `help` lists them. */
export const OFFERED_COMMANDS: readonly CommandName[] = ['help', 'cost', 'top', 'forecast', 'tags', 'digest', 'subscribe', 'unsubscribe', 'subscriptions', 'status'];

/** What the engine works with: the cost store and, for digests, the subscriptions. */
export interface EngineDeps extends HandlerDeps {
  readonly subscriptions?: SubscriptionStore | undefined;
}

const SUBSCRIPTION_COMMANDS: readonly CommandName[] = ['subscribe', 'unsubscribe', 'subscriptions'];

/** Answers commands from stored cost data. */
export class CommandEngine {
  readonly offered: readonly CommandName[];

  constructor(
    private readonly deps: EngineDeps,
    private readonly logger: EngineLogger,
  ) {
    // Without a subscription store (a bare engine in tests or tools) there is nothing to subscribe to.
    this.offered = deps.subscriptions ? OFFERED_COMMANDS : OFFERED_COMMANDS.filter((name) => !SUBSCRIPTION_COMMANDS.includes(name));
  }

  /** Parses and answers one line. Never throws. */
  async handle(line: string, context: RequestContext): Promise<Reply> {
    const parsed = parseCommand(line, this.offered);
    if (!parsed.ok) {
      if (parsed.failure.freeText && looksLikeQuestion(line)) return questionReply(this.offered);
      return errorReply(parsed.failure.message, parsed.failure.hint);
    }
    try {
      return await this.answer(parsed.command, context);
    } catch (error) {
      if (isFinOpsError(error)) return errorReply(error.message);
      this.logger.error({ err: error, command: stripInvocation(line).slice(0, 200), channel: context.channel }, 'command failed');
      return errorReply(`Something went wrong on my side while answering \`${stripInvocation(line).slice(0, 80)}\`. It has been logged; please try again.`);
    }
  }

  /**
   * The dashboard a chat app shows on its home tab: this month's spend by team with its
   * change and freshness, and the month-end forecast.
   */
  async dashboard(context: RequestContext): Promise<Reply[]> {
    return Promise.all([this.handle('cost mtd by team', context), this.handle('forecast', context)]);
  }

  private async answer(command: Command, context: RequestContext): Promise<Reply> {
    switch (command.name) {
      case 'help':
        return handleHelp(command, this.offered);
      case 'cost':
        return handleCost(this.deps, command);
      case 'top':
        return handleTop(this.deps, command);
      case 'forecast':
        return handleForecast(this.deps, command);
      case 'tags':
        return handleTags(this.deps, command);
      case 'status':
        return handleStatus(this.deps);
      case 'digest':
        return handleDigest(this.deps, command);
      case 'subscribe':
      case 'unsubscribe':
        return handleSubscribe({ ...this.deps, subscriptions: this.deps.subscriptions! }, command, context);
      case 'subscriptions':
        return handleSubscriptions({ ...this.deps, subscriptions: this.deps.subscriptions! }, context);
      default:
        // The parser only lets offered subcommands through.
        throw new Error(`no handler for ${command.name}`);
    }
  }
}

/** Several words, or a question mark: someone asking in plain words rather than mistyping a subcommand. */
function looksLikeQuestion(line: string): boolean {
  const text = stripInvocation(line);
  return text.includes('?') || text.split(/\s+/).length >= 3;
}

/**
 * The answer to a question in plain words until AI answers arrive: what the bot can do
 * instead, offered as help rather than as an error.
 */
function questionReply(offered: readonly CommandName[]): Reply {
  const help = handleHelp({ name: 'help' }, offered);
  return {
    kind: 'help',
    title: 'I answer commands for now',
    blocks: [{ type: 'text', text: "I can't answer questions in plain words yet. These commands can tell you what changed:" }, ...help.blocks],
  };
}
