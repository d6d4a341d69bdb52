/**
 * Parses one line of the command language into a {@link Command}, or into a sentence that
 * says what was wrong and how to say it instead (closest subcommand, accepted forms).
 */
import { type CostMetric, type Dimension, METRIC_WORDS } from '../core/cost-model.js';
import { parseAmount } from '../core/money.js';
import { looksLikePeriod, parsePeriod, type PeriodSpec } from '../core/period.js';
import { closestMatch } from '../core/suggest.js';
import { personRef } from '../core/people.js';
import { type Command, type CommandName, COMMAND_USAGE } from './command.js';
import { DIMENSION_ALIASES, dimensionHint, metricHint, parseDimension, periodHint, takeTimeZone, teamName, twoMetrics, UsageError } from './parse-values.js';

/** Why a line could not be parsed, written for the person who typed it. */
export interface ParseFailure {
  readonly message: string;
  /** Usage or accepted forms, shown under the message. */
  readonly hint?: string | undefined;
  /** The first word is not a subcommand, nor close to one: the line may be a question in plain words. */
  readonly freeText?: boolean;
}

/** Result of parsing one line. */
export type ParseResult = { readonly ok: true; readonly command: Command } | { readonly ok: false; readonly failure: ParseFailure };

/**
 * One argument: a plain word, or a name in quotes so it may hold spaces ("Data Platform").
 * Chat clients turn typed quotes into typographic ones, so any double quote (" “ ”) pairs
 * with any other, and any single quote (' ‘ ’) likewise. A quote only opens at the start of
 * a word and only closes at the end of one, so apostrophes (O'Brien, 'Bob's team') stay
 * part of the name. A word that starts with a quote but matches neither quoted form is an
 * unclosed quote.
 */
const ARGUMENT = /\s*(?:["“”]([^]*?)["“”](?=\s|$)|['‘’]([^]*?)['‘’](?=\s|$)|(\S+))/y;
const QUOTE_MARKS = /^["“”'‘’]/;

/** Removes what a channel may put before the command: "/finops", "finops", "@FinOps". */
export function stripInvocation(line: string): string {
  return line.trim().replace(/^(\/finops|@?finops)\b[:,]?\s*/i, '').trim();
}

/**
 * Parses `line`. Only subcommands in `offered` are recognised; anything else is answered
 * with the closest offered one.
 */
export function parseCommand(line: string, offered: readonly CommandName[]): ParseResult {
  // The subcommand is split off first: `ask` takes the rest as typed, quotes and all.
  const [, first = '', rest = ''] = /^(\S*)\s*([^]*)$/.exec(stripInvocation(line)) ?? [];
  const word = (first || 'help').toLowerCase();
  if (!offered.includes(word as CommandName)) {
    const suggestion = closestMatch(word, offered);
    const failure = fail(
      suggestion
        ? `I don't know \`${word}\`. Did you mean \`${[suggestion, rest].filter(Boolean).join(' ')}\`?`
        : `I don't know \`${word}\`.`,
      `Try \`help\` to see what I can do: ${offered.map((name) => `\`${name}\``).join(', ')}.`,
    );
    return suggestion ? failure : { ok: false, failure: { ...failure.failure, freeText: true } };
  }
  const name = word as CommandName;
  try {
    return { ok: true, command: parseArguments(name, rest, offered) };
  } catch (error) {
    if (error instanceof UsageError) return fail(error.message, error.hint ?? `Usage: \`${COMMAND_USAGE[name].usage}\``);
    throw error;
  }
}

interface Options {
  period?: PeriodSpec;
  by?: Dimension;
  team?: string;
  metric?: CostMetric;
  words: string[];
}

/**
 * Splits the arguments of a line into words, honouring quotes (see {@link ARGUMENT}).
 * Throws a {@link UsageError} for a quote that is never closed or holds nothing.
 */
function tokenize(text: string): string[] {
  const tokens: string[] = [];
  ARGUMENT.lastIndex = 0;
  for (let match = ARGUMENT.exec(text); match; match = ARGUMENT.exec(text)) {
    const [, double, single, word] = match;
    if (word !== undefined && QUOTE_MARKS.test(word)) {
      const unclosed = text.slice(match.index).trim();
      throw new UsageError(
        `The quote before \`${unclosed.slice(1)}\` is never closed; end the name with a closing quote.`,
        'Put a name with spaces in quotes, for example `cost 7d for "Data Platform"`.',
      );
    }
    const token = word ?? double ?? single ?? '';
    if (token === '') throw new UsageError(`The quotes in \`${match[0].trim()}\` hold nothing; put the name between them.`);
    tokens.push(token);
  }
  return tokens;
}

function parseArguments(name: CommandName, rest: string, offered: readonly CommandName[]): Command {
  if (name === 'ask') {
    const question = rest.trim();
    if (!question) throw new UsageError('`ask` needs a question, for example `ask why did RDS go up last week?`');
    return { name, question };
  }
  const args = tokenize(rest);
  switch (name) {
    case 'help': {
      const topic = args[0]?.toLowerCase();
      if (topic && !offered.includes(topic as CommandName)) {
        const suggestion = closestMatch(topic, offered);
        throw new UsageError(`There is no \`${topic}\` subcommand${suggestion ? `; did you mean \`help ${suggestion}\`?` : '.'}`);
      }
      return { name, topic };
    }
    case 'cost': {
      const options = parseOptions(args, ['period', 'by', 'for', 'metric']);
      noWords(name, options);
      return { name, period: options.period, by: options.by, team: options.team, metric: options.metric };
    }
    case 'top':
    case 'anomalies':
    case 'explain': {
      const options = parseOptions(args, ['period', 'for', 'metric']);
      noWords(name, options);
      return { name, period: options.period, team: options.team, metric: options.metric };
    }
    case 'forecast': {
      const options = parseOptions(args, ['for', 'metric']);
      noWords(name, options);
      return { name, team: options.team, metric: options.metric };
    }
    case 'rightsizing':
    case 'audit': {
      const options = parseOptions(args, ['for']);
      noWords(name, options);
      return { name, team: options.team };
    }
    case 'approvers':
      return parseApprovers(rest);
    case 'tags': {
      const options = parseOptions(args, ['period', 'metric']);
      if (options.words.length > 1) throw new UsageError(`\`tags\` takes one tag key, not \`${options.words.join(' ')}\`.`);
      return { name, key: options.words[0], period: options.period, metric: options.metric };
    }
    case 'budget':
      return parseBudget(args);
    case 'subscribe':
    case 'unsubscribe':
    case 'digest': {
      const timeZone = name === 'subscribe' ? takeTimeZone(args) : undefined;
      const options = parseOptions(args, ['for']);
      const cadence = options.words[0]?.toLowerCase();
      if (options.words.length > 1 || (cadence !== undefined && cadence !== 'daily' && cadence !== 'weekly')) {
        throw new UsageError(`\`${name}\` takes \`daily\` or \`weekly\`, not \`${options.words.join(' ')}\`.`);
      }
      if (name !== 'digest' && cadence === undefined) throw new UsageError(`\`${name}\` needs \`daily\` or \`weekly\`.`);
      return { name, cadence: cadence ?? 'daily', team: options.team, ...(timeZone ? { timeZone } : {}) } as Command;
    }
    case 'ai-usage': {
      const options = parseOptions(args, ['period']);
      noWords(name, options);
      return { name, period: options.period };
    }
    case 'subscriptions':
    case 'status':
      if (args.length > 0) throw new UsageError(`\`${name}\` takes no arguments.`);
      return { name };
  }
}

/** A Slack mention as an escaped slash command carries it: `<@U123|alice>`, `<!subteam^S123|@leads>`. */
const MENTION_TOKEN = /^<(?:@([UW][A-Z0-9]+)|!subteam\^(S[A-Z0-9]+))(?:\|[^>]*)?>$/;

function parseApprovers(rest: string): Command {
  // A mention's display name may hold spaces: each mention is one argument.
  const args = tokenize(rest.replace(/<[@!][^>]*>/g, (token) => ` ${token.replace(/\s+/g, '_')} `));
  const action = args[0]?.toLowerCase();
  if (action === undefined || action === 'for') {
    const options = parseOptions(args, ['for']);
    noWords('approvers', options);
    return { name: 'approvers', action: 'show', team: options.team };
  }
  const verb = action === 'add' ? 'add' : action === 'rm' || action === 'remove' || action === 'delete' ? 'rm' : undefined;
  if (!verb) throw new UsageError(`\`approvers ${action}\` is not an approvers action.`, `Usage: \`${COMMAND_USAGE.approvers.usage}\``);
  if (args.length < 3) throw new UsageError(`\`approvers ${verb}\` takes a team and one or more people, for example \`approvers ${verb} payments @alice\`.`);
  const people = args.slice(2).map((token) => {
    const mention = MENTION_TOKEN.exec(token);
    if (mention) return mention[1] ? { kind: 'user' as const, id: mention[1] } : { kind: 'group' as const, id: mention[2]! };
    const person = personRef(token);
    if (person) return person;
    throw new UsageError(
      `I can't tell who \`${token}\` is. Pick the person or group from Slack's @ menu so their id comes through, or give the id itself (U0123ABCD, or S0123ABCD for a user group).`,
    );
  });
  return { name: 'approvers', action: verb, team: teamName(args[1]!), people };
}

function parseBudget(args: string[]): Command {
  const action = args[0]?.toLowerCase();
  if (action === undefined) return { name: 'budget', action: 'show' };
  if (action === 'rm' || action === 'remove' || action === 'delete') {
    if (args.length !== 2) throw new UsageError('`budget rm` takes one team, for example `budget rm payments`.');
    return { name: 'budget', action: 'rm', team: teamName(args[1]!) };
  }
  if (action === 'set') {
    if (args.length !== 3) throw new UsageError('`budget set` takes a team and a monthly amount, for example `budget set payments 25000`.');
    const cleaned = args[2]!.replace(/^(usd|\$)/i, '').replaceAll(',', '');
    const multiplier = /k$/i.test(cleaned) ? 1_000n : /m$/i.test(cleaned) ? 1_000_000n : 1n;
    let amount: bigint;
    try {
      amount = parseAmount(cleaned.replace(/[km]$/i, '')) * multiplier;
    } catch {
      throw new UsageError(`\`${args[2]}\` is not an amount. Write it like \`25000\`, \`25,000.50\` or \`25k\`.`);
    }
    if (amount <= 0n) throw new UsageError('A budget must be more than zero. To remove one, use `budget rm TEAM`.');
    if (amount > parseAmount('1000000000000')) throw new UsageError(`\`${args[2]}\` is more than any monthly AWS bill; check the number of zeros.`);
    return { name: 'budget', action: 'set', team: teamName(args[1]!), amount };
  }
  throw new UsageError(`\`budget ${action}\` is not a budget action.`, `Usage: \`${COMMAND_USAGE.budget.usage}\``);
}

function parseOptions(args: string[], allowed: readonly ('period' | 'by' | 'for' | 'metric')[]): Options {
  const options: Options = { words: [] };
  let metricWord: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const token = args[i]!;
    const lower = token.toLowerCase();
    if (lower === 'by' && allowed.includes('by')) {
      const value = args[++i];
      if (value === undefined) throw new UsageError('`by` needs a dimension.', dimensionHint());
      if (options.by) throw new UsageError('Group by one dimension at a time.');
      options.by = parseDimension(value);
    } else if (lower === 'for' && allowed.includes('for')) {
      const value = args[++i];
      if (value === undefined) throw new UsageError('`for` needs a team name, for example `for payments`.');
      if (options.team !== undefined) throw new UsageError('Ask about one team at a time.');
      options.team = teamName(value);
    } else if (Object.hasOwn(METRIC_WORDS, lower) && allowed.includes('metric')) {
      if (metricWord !== undefined) throw new UsageError(twoMetrics(metricWord, token), metricHint());
      metricWord = token;
      options.metric = METRIC_WORDS[lower];
    } else if (allowed.includes('period') && looksLikePeriod(token)) {
      if (options.period) throw new UsageError('Give one period at a time.', periodHint());
      const period = parsePeriod(token);
      if ('error' in period) throw new UsageError(period.error, periodHint());
      options.period = period;
    } else {
      options.words.push(token);
    }
  }
  return options;
}

function noWords(name: CommandName, options: Options): void {
  const word = options.words[0];
  if (word === undefined) return;
  const dimension = closestMatch(word, Object.keys(DIMENSION_ALIASES));
  const period = closestMatch(word, ['today', 'yesterday', 'mtd', 'last-month']);
  const suggestion = dimension && COMMAND_USAGE[name].usage.includes('by DIM') ? `by ${dimension}` : period;
  throw new UsageError(
    `I don't understand \`${word}\` in \`${name}\`${suggestion ? `; did you mean \`${suggestion}\`?` : '.'}`,
    `Usage: \`${COMMAND_USAGE[name].usage}\``,
  );
}

function fail(message: string, hint?: string): { readonly ok: false; readonly failure: ParseFailure } {
  return { ok: false, failure: { message, hint } };
}
