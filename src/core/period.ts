/**
 * Calendar periods for cost questions, in plain dates.
 *
 * Cost Explorer days are UTC calendar days, written "YYYY-MM-DD"; a period is a half-open
 * range of those days. What "today" means depends on the organisation's time zone, so the
 * only place a clock and a zone meet is {@link todayIn}; everything else is date arithmetic
 * on plain dates, which has no daylight-saving surprises.
 */

/** A calendar date "YYYY-MM-DD". */
export type PlainDate = string;

/** Half-open range of days: `start` is included, `end` is not. */
export interface DateRange {
  readonly start: PlainDate;
  readonly end: PlainDate;
}

/** A period the user asked for, before it is anchored to a date. */
export type PeriodSpec =
  | { readonly kind: 'today' }
  | { readonly kind: 'yesterday' }
  | { readonly kind: 'last-days'; readonly days: number }
  | { readonly kind: 'mtd' }
  | { readonly kind: 'last-month' }
  | { readonly kind: 'month'; readonly month: string }
  | { readonly kind: 'range'; readonly first: PlainDate; readonly last: PlainDate };

/** A period anchored to dates, with the equal period before it for comparisons. */
export interface Period extends DateRange {
  /** Human label, e.g. "last 7 days" or "October 2026". */
  readonly label: string;
  /** The comparable period just before this one. */
  readonly previous: DateRange;
}

/** Accepted forms of PERIOD, for help and error messages. */
export const PERIOD_FORMS = [
  'today',
  'yesterday',
  '7d',
  '30d',
  '90d',
  'mtd',
  'last-month',
  'YYYY-MM',
  'YYYY-MM-DD..YYYY-MM-DD',
] as const;

/** Longest span a period may cover (Cost Explorer keeps about 14 months of daily data). */
export const MAX_PERIOD_DAYS = 400;

/**
 * Years a period may name. No AWS bill predates 2000, and a year far outside that range
 * only fails later (a date past 9999 has no YYYY-MM-DD form, the database refuses others):
 * refusing it while parsing gives the user a sentence instead of "something went wrong".
 */
const FIRST_PERIOD_YEAR = 2000;
/** Latest year a period may name (see {@link FIRST_PERIOD_YEAR}). */
const LAST_PERIOD_YEAR = 2100;

const DAY_MS = 86_400_000;
const DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;
const MONTH_PATTERN = /^(\d{4})-(\d{2})$/;
const MONTH_NAMES = [
  'January', 'February', 'March', 'April', 'May', 'June',
  'July', 'August', 'September', 'October', 'November', 'December',
];

/** The calendar date at `instant` in the IANA time zone `timeZone`. */
export function todayIn(timeZone: string, instant: Date): PlainDate {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).formatToParts(instant);
  const get = (type: string) => parts.find((part) => part.type === type)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')}`;
}

/** True when `zone` is an IANA time zone this runtime knows. */
export function isValidTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** True when `text` is a real calendar date (rejects 2026-02-30). */
export function isPlainDate(text: string): boolean {
  const match = DATE_PATTERN.exec(text);
  if (!match) return false;
  const [, y, m, d] = match.map(Number) as [number, number, number, number];
  const date = utcDate(y, m - 1, d);
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

/** `date` moved by `days` (negative to go back). */
export function addDays(date: PlainDate, days: number): PlainDate {
  return fromEpochDay(toEpochDay(date) + days);
}

/** Days from `start` to `end` (positive when `end` is later). */
export function daysBetween(start: PlainDate, end: PlainDate): number {
  return toEpochDay(end) - toEpochDay(start);
}

/** Number of days in a range. */
export function rangeLength(range: DateRange): number {
  return daysBetween(range.start, range.end);
}

/** Every day of a range, in order. */
export function eachDay(range: DateRange): PlainDate[] {
  const days: PlainDate[] = [];
  for (let day = toEpochDay(range.start), end = toEpochDay(range.end); day < end; day++) {
    days.push(fromEpochDay(day));
  }
  return days;
}

/** First day of the month containing `date`. */
export function startOfMonth(date: PlainDate): PlainDate {
  return `${date.slice(0, 7)}-01`;
}

/** First day of the month after the one containing `date`. */
export function startOfNextMonth(date: PlainDate): PlainDate {
  const [y, m] = date.split('-').map(Number) as [number, number];
  return formatDate(utcDate(y, m, 1));
}

/** First day of the month before the one containing `date`. */
export function startOfPreviousMonth(date: PlainDate): PlainDate {
  const [y, m] = date.split('-').map(Number) as [number, number];
  return formatDate(utcDate(y, m - 2, 1));
}

/** ISO weekday of a date: 1 = Monday … 7 = Sunday. */
export function isoWeekday(date: PlainDate): number {
  const weekday = new Date(toEpochDay(date) * DAY_MS).getUTCDay();
  return weekday === 0 ? 7 : weekday;
}

/** The earlier of two dates. */
export function minDate(a: PlainDate, b: PlainDate): PlainDate {
  return a <= b ? a : b;
}

/** The later of two dates. */
export function maxDate(a: PlainDate, b: PlainDate): PlainDate {
  return a >= b ? a : b;
}

/**
 * Anchors a period to `today` (the organisation's current date).
 *
 * `Nd` means the N complete days before today; `mtd` runs from the 1st through today and
 * compares with the same days of the previous month; a named month compares with the month
 * before it; any other period compares with the equal number of days just before it.
 */
export function resolvePeriod(spec: PeriodSpec, today: PlainDate): Period {
  switch (spec.kind) {
    case 'today':
      return withPreviousDays({ start: today, end: addDays(today, 1) }, 'today');
    case 'yesterday':
      return withPreviousDays({ start: addDays(today, -1), end: today }, 'yesterday');
    case 'last-days':
      return withPreviousDays({ start: addDays(today, -spec.days), end: today }, `last ${spec.days} days`);
    case 'mtd': {
      const start = startOfMonth(today);
      const end = addDays(today, 1);
      const previousStart = startOfPreviousMonth(today);
      const previousEnd = minDate(addDays(previousStart, daysBetween(start, end)), start);
      return { start, end, label: 'month to date', previous: { start: previousStart, end: previousEnd } };
    }
    case 'last-month':
      return monthPeriod(startOfPreviousMonth(today), 'last month');
    case 'month':
      return monthPeriod(`${spec.month}-01`);
    case 'range':
      return withPreviousDays(
        { start: spec.first, end: addDays(spec.last, 1) },
        spec.first === spec.last ? spec.first : `${spec.first} to ${spec.last}`,
      );
  }
}

/**
 * Parses one PERIOD token. Returns the spec, or a sentence saying what is wrong; the
 * caller adds the list of accepted forms.
 */
export function parsePeriod(token: string): PeriodSpec | { readonly error: string } {
  const text = token.trim().toLowerCase();
  if (text === 'today' || text === 'yesterday' || text === 'mtd' || text === 'last-month') {
    return { kind: text } as PeriodSpec;
  }
  const days = /^(\d+)d$/.exec(text);
  if (days) {
    const count = Number(days[1]);
    if (count < 1 || count > MAX_PERIOD_DAYS) {
      return { error: `\`${token}\` is out of range: use 1d to ${MAX_PERIOD_DAYS}d.` };
    }
    return { kind: 'last-days', days: count };
  }
  const month = MONTH_PATTERN.exec(text);
  if (month) {
    const monthNumber = Number(month[2]);
    if (monthNumber < 1 || monthNumber > 12) return { error: `\`${token}\` is not a month.` };
    if (!isPeriodYear(text)) return yearError(token);
    return { kind: 'month', month: text };
  }
  const range = /^(\S+)\.\.(\S+)$/.exec(text);
  if (range) {
    const [, first = '', last = ''] = range;
    for (const date of [first, last]) {
      if (!isPlainDate(date)) return { error: `\`${date}\` is not a calendar date (YYYY-MM-DD).` };
      if (!isPeriodYear(date)) return yearError(date);
    }
    if (last < first) return { error: `\`${token}\` ends before it starts.` };
    if (daysBetween(first, last) + 1 > MAX_PERIOD_DAYS) {
      return { error: `\`${token}\` is longer than ${MAX_PERIOD_DAYS} days.` };
    }
    return { kind: 'range', first, last };
  }
  if (isPlainDate(text)) return isPeriodYear(text) ? { kind: 'range', first: text, last: text } : yearError(token);
  return { error: `\`${token}\` is not a period I know.` };
}

/** True when a "YYYY-MM" or "YYYY-MM-DD" text names a year a period may have. */
function isPeriodYear(text: string): boolean {
  const year = Number(text.slice(0, 4));
  return year >= FIRST_PERIOD_YEAR && year <= LAST_PERIOD_YEAR;
}

function yearError(shown: string): { readonly error: string } {
  return { error: `\`${shown}\` is out of range: use a year from ${FIRST_PERIOD_YEAR} to ${LAST_PERIOD_YEAR}.` };
}

/** True when a token looks like an attempt at a period (so it is not taken for a word). */
export function looksLikePeriod(token: string): boolean {
  return /^\d/.test(token) || /^(today|yesterday|mtd|last-month)$/i.test(token) || token.includes('..');
}

/** Human label for a range, e.g. "2026-11-01 – 2026-11-21". */
export function formatRange(range: DateRange): string {
  const last = addDays(range.end, -1);
  return range.start === last ? range.start : `${range.start} – ${last}`;
}

function monthPeriod(start: PlainDate, label?: string): Period {
  const end = startOfNextMonth(start);
  const [y, m] = start.split('-').map(Number) as [number, number];
  return {
    start,
    end,
    label: label ?? `${MONTH_NAMES[m - 1]} ${y}`,
    previous: { start: startOfPreviousMonth(start), end: start },
  };
}

function withPreviousDays(range: DateRange, label: string): Period {
  const length = rangeLength(range);
  return { ...range, label, previous: { start: addDays(range.start, -length), end: range.start } };
}

function toEpochDay(date: PlainDate): number {
  const match = DATE_PATTERN.exec(date);
  if (!match) throw new RangeError(`not a date: ${date}`);
  return utcDate(Number(match[1]), Number(match[2]) - 1, Number(match[3])).getTime() / DAY_MS;
}

/**
 * Midnight UTC of a calendar day (month from 0; out-of-range months and days roll over).
 * Unlike Date.UTC, which reads years 0–99 as 1900–1999, this takes every year as written.
 */
function utcDate(year: number, month: number, day: number): Date {
  const date = new Date(0);
  date.setUTCFullYear(year, month, day);
  return date;
}

function fromEpochDay(day: number): PlainDate {
  return formatDate(new Date(day * DAY_MS));
}

function formatDate(date: Date): PlainDate {
  return date.toISOString().slice(0, 10);
}
