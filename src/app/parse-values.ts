/**
 * The values inside a command line — a dimension, a team, a time zone, a metric — read one
 * word at a time, and the hints that list their accepted forms. A value that cannot be read
 * throws a {@link UsageError} with a sentence for the person who typed it.
 */
import { type CostMetric, type Dimension, DIMENSION_FORMS, METRIC_WORDS } from '../core/cost-model.js';
import { PERIOD_FORMS } from '../core/period.js';
import { closestMatch } from '../core/suggest.js';

/** A line that names a subcommand but says the rest wrongly; `hint` shows how to say it. */
export class UsageError extends Error {
  constructor(message: string, readonly hint?: string) {
    super(message);
  }
}

/** Words that name the team when typed after `for`, meaning spend without the team tag. */
const UNTAGGED_WORDS = new Set(['untagged', '(untagged)', 'none', '-']);

/** What `by` accepts, in the forms people type. */
export const DIMENSION_ALIASES: Readonly<Record<string, Dimension>> = {
  service: 'service',
  services: 'service',
  account: 'account',
  accounts: 'account',
  'linked-account': 'account',
  region: 'region',
  regions: 'region',
  team: 'team',
  teams: 'team',
  'usage-type': 'usage-type',
  'usage-types': 'usage-type',
  usagetype: 'usage-type',
  usage_type: 'usage-type',
  usage: 'usage-type',
};

/** Removes `in ZONE` from `args` and returns the IANA zone, checked; undefined when absent. */
export function takeTimeZone(args: string[]): string | undefined {
  const index = args.findIndex((arg) => arg.toLowerCase() === 'in');
  if (index === -1) return undefined;
  const typed = args[index + 1];
  if (typed === undefined) throw new UsageError('`in` needs a time zone, for example `subscribe daily in Europe/Paris`.');
  args.splice(index, 2);
  const zones = [...Intl.supportedValuesOf('timeZone'), 'UTC'];
  const listed = zones.find((zone) => zone.toLowerCase() === typed.toLowerCase());
  if (listed) return listed;
  // The list holds ICU's older names (Asia/Calcutta, Europe/Kiev): newer ones and aliases
  // (Asia/Kolkata, Europe/Kyiv, Etc/UTC) are valid too, as the scheduler reads them.
  if (isTimeZone(typed)) return typed;
  const suggestion = closestMatch(typed, zones);
  throw new UsageError(
    `I don't know the time zone \`${typed}\`${suggestion ? `; did you mean \`${suggestion}\`?` : '.'}`,
    'Time zones are IANA names such as `Europe/Paris`, `America/New_York` or `UTC`.',
  );
}

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** A `by` value: a dimension or `tag:<Key>`. */
export function parseDimension(token: string): Dimension {
  const lower = token.toLowerCase();
  if (lower.startsWith('tag:')) {
    const key = token.slice(4);
    if (!/^[\w.:/=+@-]{1,128}$/.test(key)) throw new UsageError(`\`${token}\` is not a tag key.`, dimensionHint());
    return `tag:${key}`;
  }
  const dimension = Object.hasOwn(DIMENSION_ALIASES, lower) ? DIMENSION_ALIASES[lower] : undefined;
  if (dimension) return dimension;
  const suggestion = closestMatch(lower, Object.keys(DIMENSION_ALIASES));
  throw new UsageError(
    `I can't group by \`${token}\`${suggestion ? `; did you mean \`by ${DIMENSION_ALIASES[suggestion]}\`?` : '.'}`,
    dimensionHint(),
  );
}

/** A `for` value, with the words that mean spend without the team tag read as ''. */
export function teamName(token: string): string {
  return UNTAGGED_WORDS.has(token.toLowerCase()) ? '' : token;
}

/** Why a second metric word is refused: silently keeping one of them would answer a question not asked. */
export function twoMetrics(first: string, second: string): string {
  return first.toLowerCase() === second.toLowerCase()
    ? `Choose one cost metric; \`${second}\` is there twice.`
    : `Choose one cost metric, not both \`${first}\` and \`${second}\`.`;
}

/** The metric words, one per metric (the first of its spellings). */
export function metricHint(): string {
  const words = new Map<CostMetric, string>();
  for (const [word, metric] of Object.entries(METRIC_WORDS)) if (!words.has(metric)) words.set(metric, word);
  return `Metrics: ${[...words.values()].map((word) => `\`${word}\``).join(', ')}.`;
}

/** The accepted period forms. */
export function periodHint(): string {
  return `Periods: ${PERIOD_FORMS.map((form) => `\`${form}\``).join(', ')}.`;
}

/** The accepted dimension forms. */
export function dimensionHint(): string {
  return `Dimensions: ${DIMENSION_FORMS.map((form) => `\`${form}\``).join(', ')}.`;
}
