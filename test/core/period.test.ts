import { describe, expect, it } from 'vitest';
import {
  addDays,
  daysBetween,
  eachDay,
  formatRange,
  isoWeekday,
  isPlainDate,
  isValidTimeZone,
  looksLikePeriod,
  MAX_PERIOD_DAYS,
  maxDate,
  minDate,
  parsePeriod,
  PERIOD_FORMS,
  type PeriodSpec,
  rangeLength,
  resolvePeriod,
  startOfMonth,
  startOfNextMonth,
  startOfPreviousMonth,
  todayIn,
} from '../../src/core/period.js';

const at = (iso: string) => new Date(iso);

describe('todayIn', () => {
  it('gives the local date of one instant in different zones', () => {
    const instant = at('2026-11-21T23:30:00Z');
    expect(todayIn('UTC', instant)).toBe('2026-11-21');
    expect(todayIn('Asia/Tokyo', instant)).toBe('2026-11-22'); // UTC+9: 08:30 on the 22nd
    expect(todayIn('America/Los_Angeles', instant)).toBe('2026-11-21'); // UTC-8: 15:30 on the 21st
  });

  it('handles half-hour offsets and the extremes of the date line', () => {
    // Asia/Kolkata is UTC+5:30: local midnight of the 22nd is 18:30Z on the 21st.
    expect(todayIn('Asia/Kolkata', at('2026-11-21T18:29:59Z'))).toBe('2026-11-21');
    expect(todayIn('Asia/Kolkata', at('2026-11-21T18:30:00Z'))).toBe('2026-11-22');
    // Pacific/Kiritimati is UTC+14, Pacific/Pago_Pago UTC-11: two dates apart at 12:00Z.
    expect(todayIn('Pacific/Kiritimati', at('2026-11-21T12:00:00Z'))).toBe('2026-11-22');
    expect(todayIn('Pacific/Pago_Pago', at('2026-11-21T12:00:00Z'))).toBe('2026-11-21');
    expect(todayIn('Pacific/Pago_Pago', at('2026-11-21T10:59:59Z'))).toBe('2026-11-20');
  });

  it('crosses year ends at local midnight', () => {
    expect(todayIn('Asia/Tokyo', at('2026-12-31T15:00:00Z'))).toBe('2027-01-01');
    expect(todayIn('Asia/Tokyo', at('2026-12-31T14:59:59Z'))).toBe('2026-12-31');
  });

  describe('America/New_York around daylight-saving changes', () => {
    it('spring forward on 2026-03-08 (midnight before the change is EST, UTC-5)', () => {
      expect(todayIn('America/New_York', at('2026-03-08T04:59:59Z'))).toBe('2026-03-07');
      expect(todayIn('America/New_York', at('2026-03-08T05:00:00Z'))).toBe('2026-03-08');
      // 02:00 EST jumps to 03:00 EDT at 07:00Z; still the 8th.
      expect(todayIn('America/New_York', at('2026-03-08T07:30:00Z'))).toBe('2026-03-08');
      // The next midnight is EDT (UTC-4): 04:00Z on the 9th; the day was 23 hours long.
      expect(todayIn('America/New_York', at('2026-03-09T03:59:59Z'))).toBe('2026-03-08');
      expect(todayIn('America/New_York', at('2026-03-09T04:00:00Z'))).toBe('2026-03-09');
    });

    it('fall back on 2026-11-01 (midnight before the change is EDT, UTC-4)', () => {
      expect(todayIn('America/New_York', at('2026-11-01T03:59:59Z'))).toBe('2026-10-31');
      expect(todayIn('America/New_York', at('2026-11-01T04:00:00Z'))).toBe('2026-11-01');
      // The next midnight is EST (UTC-5): 05:00Z on the 2nd; the day was 25 hours long.
      expect(todayIn('America/New_York', at('2026-11-02T04:59:59Z'))).toBe('2026-11-01');
      expect(todayIn('America/New_York', at('2026-11-02T05:00:00Z'))).toBe('2026-11-02');
    });
  });

  it('Europe/London on 2026-03-29 (GMT midnight, then BST midnight one hour earlier in UTC)', () => {
    expect(todayIn('Europe/London', at('2026-03-28T23:59:59Z'))).toBe('2026-03-28');
    expect(todayIn('Europe/London', at('2026-03-29T00:00:00Z'))).toBe('2026-03-29');
    expect(todayIn('Europe/London', at('2026-03-29T22:59:59Z'))).toBe('2026-03-29');
    expect(todayIn('Europe/London', at('2026-03-29T23:00:00Z'))).toBe('2026-03-30');
  });
});

describe('isValidTimeZone', () => {
  it('accepts IANA zones and rejects anything else', () => {
    for (const zone of ['UTC', 'Europe/London', 'America/New_York', 'Asia/Kolkata', 'Pacific/Kiritimati']) {
      expect(isValidTimeZone(zone)).toBe(true);
    }
    for (const zone of ['', 'Mars/Olympus_Mons', 'Europe/Londres', 'not a zone']) {
      expect(isValidTimeZone(zone)).toBe(false);
    }
  });
});

describe('isPlainDate', () => {
  it('accepts real calendar dates only', () => {
    expect(isPlainDate('2026-02-28')).toBe(true);
    expect(isPlainDate('2026-02-29')).toBe(false); // 2026 is not a leap year
    expect(isPlainDate('2028-02-29')).toBe(true); // 2028 is
    expect(isPlainDate('2000-02-29')).toBe(true); // divisible by 400
    expect(isPlainDate('2100-02-29')).toBe(false); // divisible by 100, not 400
    expect(isPlainDate('2026-02-30')).toBe(false);
    expect(isPlainDate('2026-04-31')).toBe(false);
    expect(isPlainDate('2026-12-31')).toBe(true);
    expect(isPlainDate('2026-13-01')).toBe(false);
    expect(isPlainDate('2026-00-10')).toBe(false);
    expect(isPlainDate('2026-01-00')).toBe(false);
  });

  it('is right for every four-digit year, including 0000-0099 (which Date.UTC would read as 19xx)', () => {
    expect(isPlainDate('0001-01-01')).toBe(true);
    expect(isPlainDate('0000-01-01')).toBe(true);
    expect(isPlainDate('0099-12-31')).toBe(true);
    expect(isPlainDate('9999-12-31')).toBe(true);
    expect(isPlainDate('0000-02-29')).toBe(true); // year 0 is divisible by 400
    expect(isPlainDate('0004-02-29')).toBe(true); // 1904 was a leap year too, but 0004 is not 1904…
    expect(isPlainDate('0100-02-29')).toBe(false); // …and 0100, unlike 2000, is not a leap year
    expect(isPlainDate('0001-02-29')).toBe(false);
  });

  it('requires the YYYY-MM-DD shape', () => {
    for (const text of ['2026-2-3', '26-02-03', '2026/02/03', '2026-02-03T00:00', ' 2026-02-03', '', 'today']) {
      expect(isPlainDate(text)).toBe(false);
    }
  });
});

describe('date arithmetic', () => {
  it('adds days across month and year ends and leap days', () => {
    expect(addDays('2028-02-28', 1)).toBe('2028-02-29');
    expect(addDays('2027-02-28', 1)).toBe('2027-03-01');
    expect(addDays('2028-02-29', 1)).toBe('2028-03-01');
    expect(addDays('2028-03-01', -1)).toBe('2028-02-29');
    expect(addDays('2026-01-31', 1)).toBe('2026-02-01');
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(addDays('2027-01-01', -1)).toBe('2026-12-31');
    expect(addDays('2026-01-01', 365)).toBe('2027-01-01');
    expect(addDays('2028-01-01', 366)).toBe('2029-01-01');
    expect(addDays('2026-11-21', 0)).toBe('2026-11-21');
  });

  it('counts days between dates and in ranges', () => {
    expect(daysBetween('2026-01-01', '2027-01-01')).toBe(365);
    expect(daysBetween('2028-01-01', '2029-01-01')).toBe(366);
    expect(daysBetween('2026-03-01', '2026-02-01')).toBe(-28);
    expect(rangeLength({ start: '2028-02-01', end: '2028-03-01' })).toBe(29);
    expect(eachDay({ start: '2026-12-30', end: '2027-01-02' })).toEqual(['2026-12-30', '2026-12-31', '2027-01-01']);
    expect(eachDay({ start: '2026-05-05', end: '2026-05-05' })).toEqual([]);
  });

  it('finds month starts at year ends', () => {
    expect(startOfMonth('2026-11-21')).toBe('2026-11-01');
    expect(startOfNextMonth('2026-12-15')).toBe('2027-01-01');
    expect(startOfNextMonth('2026-12-31')).toBe('2027-01-01');
    expect(startOfNextMonth('2028-02-29')).toBe('2028-03-01');
    expect(startOfNextMonth('2026-01-31')).toBe('2026-02-01');
    expect(startOfPreviousMonth('2026-01-15')).toBe('2025-12-01');
    expect(startOfPreviousMonth('2027-01-01')).toBe('2026-12-01');
    expect(startOfPreviousMonth('2026-03-31')).toBe('2026-02-01');
  });

  it('gives ISO weekdays, Monday = 1 … Sunday = 7', () => {
    expect(isoWeekday('1970-01-01')).toBe(4); // Thursday
    expect(isoWeekday('1969-12-31')).toBe(3); // Wednesday
    expect(isoWeekday('2026-01-01')).toBe(4); // Thursday
    expect(isoWeekday('2026-03-01')).toBe(7); // Sunday
    expect(isoWeekday('2026-03-02')).toBe(1); // Monday
    expect(isoWeekday('2026-11-21')).toBe(6); // Saturday
    expect(isoWeekday('2028-02-29')).toBe(2); // Tuesday
  });

  it('does arithmetic on years 0000-0099 without moving them to 1900-1999', () => {
    expect(addDays('0001-01-01', 1)).toBe('0001-01-02');
    expect(addDays('0001-01-01', -1)).toBe('0000-12-31');
    expect(addDays('0099-12-31', 1)).toBe('0100-01-01');
    expect(addDays('0004-02-28', 1)).toBe('0004-02-29');
    expect(daysBetween('0001-01-01', '0002-01-01')).toBe(365);
    expect(daysBetween('0000-01-01', '0001-01-01')).toBe(366);
    expect(daysBetween('0001-01-01', '2001-01-01')).toBe(730_485); // 2000 Gregorian years
    expect(eachDay({ start: '0050-12-31', end: '0051-01-02' })).toEqual(['0050-12-31', '0051-01-01']);
    expect(startOfNextMonth('0050-12-15')).toBe('0051-01-01');
    expect(startOfPreviousMonth('0050-01-15')).toBe('0049-12-01');
    expect(isoWeekday('0001-01-01')).toBe(1); // Monday, in the proleptic Gregorian calendar
    expect(addDays('9999-12-30', 1)).toBe('9999-12-31');
  });

  it('picks the earlier and the later date', () => {
    expect(minDate('2026-12-31', '2027-01-01')).toBe('2026-12-31');
    expect(maxDate('2026-12-31', '2027-01-01')).toBe('2027-01-01');
  });

  it('formats a range by its first and last day', () => {
    expect(formatRange({ start: '2026-11-01', end: '2026-11-22' })).toBe('2026-11-01 – 2026-11-21');
    expect(formatRange({ start: '2026-11-21', end: '2026-11-22' })).toBe('2026-11-21');
  });
});

describe('resolvePeriod', () => {
  const today = '2026-11-21';

  it('today: the current day, compared with yesterday', () => {
    expect(resolvePeriod({ kind: 'today' }, today)).toEqual({
      start: '2026-11-21',
      end: '2026-11-22',
      label: 'today',
      previous: { start: '2026-11-20', end: '2026-11-21' },
    });
  });

  it('yesterday: compared with the day before', () => {
    expect(resolvePeriod({ kind: 'yesterday' }, '2027-01-01')).toEqual({
      start: '2026-12-31',
      end: '2027-01-01',
      label: 'yesterday',
      previous: { start: '2026-12-30', end: '2026-12-31' },
    });
  });

  it('Nd: the N complete days before today, compared with the N days before those', () => {
    expect(resolvePeriod({ kind: 'last-days', days: 7 }, today)).toEqual({
      start: '2026-11-14',
      end: '2026-11-21',
      label: 'last 7 days',
      previous: { start: '2026-11-07', end: '2026-11-14' },
    });
    const newYear = resolvePeriod({ kind: 'last-days', days: 7 }, '2027-01-03');
    expect(newYear.start).toBe('2026-12-27');
    expect(newYear.end).toBe('2027-01-03');
    expect(newYear.previous).toEqual({ start: '2026-12-20', end: '2026-12-27' });
    const thirty = resolvePeriod({ kind: 'last-days', days: 30 }, '2028-03-15');
    expect(thirty.start).toBe('2028-02-14'); // 15 days of March + 15 of a 29-day February
    expect(rangeLength(thirty)).toBe(30);
    expect(rangeLength(thirty.previous)).toBe(30);
    expect(thirty.previous.end).toBe(thirty.start);
  });

  it('mtd: from the 1st through today, compared with the same days of the previous month', () => {
    expect(resolvePeriod({ kind: 'mtd' }, '2026-03-15')).toEqual({
      start: '2026-03-01',
      end: '2026-03-16',
      label: 'month to date',
      previous: { start: '2026-02-01', end: '2026-02-16' },
    });
    // On the 1st: one day against one day.
    expect(resolvePeriod({ kind: 'mtd' }, '2026-03-01').previous).toEqual({ start: '2026-02-01', end: '2026-02-02' });
    // In January the previous month is last year's December.
    expect(resolvePeriod({ kind: 'mtd' }, '2026-01-10').previous).toEqual({ start: '2025-12-01', end: '2025-12-11' });
  });

  it('mtd at the end of a long month compares with the shorter previous month clamped at its end', () => {
    const march31 = resolvePeriod({ kind: 'mtd' }, '2026-03-31');
    expect(march31.start).toBe('2026-03-01');
    expect(march31.end).toBe('2026-04-01');
    expect(march31.previous).toEqual({ start: '2026-02-01', end: '2026-03-01' });
    expect(resolvePeriod({ kind: 'mtd' }, '2026-03-29').previous).toEqual({ start: '2026-02-01', end: '2026-03-01' });
    // Leap February has 29 days: the 28th still compares with 1–28 February.
    expect(resolvePeriod({ kind: 'mtd' }, '2028-03-28').previous).toEqual({ start: '2028-02-01', end: '2028-02-29' });
    expect(resolvePeriod({ kind: 'mtd' }, '2028-03-30').previous).toEqual({ start: '2028-02-01', end: '2028-03-01' });
    // May 31 against the whole of April (30 days).
    expect(resolvePeriod({ kind: 'mtd' }, '2026-05-31').previous).toEqual({ start: '2026-04-01', end: '2026-05-01' });
  });

  it('last-month: the whole previous month, compared with the month before', () => {
    expect(resolvePeriod({ kind: 'last-month' }, '2026-01-15')).toEqual({
      start: '2025-12-01',
      end: '2026-01-01',
      label: 'last month',
      previous: { start: '2025-11-01', end: '2025-12-01' },
    });
    expect(resolvePeriod({ kind: 'last-month' }, '2028-03-31')).toMatchObject({ start: '2028-02-01', end: '2028-03-01' });
  });

  it('YYYY-MM: that month, compared with the month before, labelled by name', () => {
    expect(resolvePeriod({ kind: 'month', month: '2026-02' }, today)).toEqual({
      start: '2026-02-01',
      end: '2026-03-01',
      label: 'February 2026',
      previous: { start: '2026-01-01', end: '2026-02-01' },
    });
    expect(resolvePeriod({ kind: 'month', month: '2026-01' }, today)).toEqual({
      start: '2026-01-01',
      end: '2026-02-01',
      label: 'January 2026',
      previous: { start: '2025-12-01', end: '2026-01-01' },
    });
    expect(resolvePeriod({ kind: 'month', month: '2026-12' }, today)).toMatchObject({ end: '2027-01-01', label: 'December 2026' });
  });

  it('a range includes both ends and compares with the equal number of days before it', () => {
    // 1–21 November is 21 days; the 21 days before start on 11 October (October has 31 days).
    expect(resolvePeriod({ kind: 'range', first: '2026-11-01', last: '2026-11-21' }, today)).toEqual({
      start: '2026-11-01',
      end: '2026-11-22',
      label: '2026-11-01 to 2026-11-21',
      previous: { start: '2026-10-11', end: '2026-11-01' },
    });
    expect(resolvePeriod({ kind: 'range', first: '2028-02-29', last: '2028-02-29' }, today)).toEqual({
      start: '2028-02-29',
      end: '2028-03-01',
      label: '2028-02-29',
      previous: { start: '2028-02-28', end: '2028-02-29' },
    });
  });

  it('puts every previous period (except mtd) directly before the period, with no overlap or gap', () => {
    const specs: PeriodSpec[] = [
      { kind: 'today' },
      { kind: 'yesterday' },
      { kind: 'last-days', days: 1 },
      { kind: 'last-days', days: 90 },
      { kind: 'last-month' },
      { kind: 'month', month: '2028-03' },
      { kind: 'range', first: '2026-12-25', last: '2027-01-05' },
    ];
    for (const day of ['2026-01-01', '2026-03-31', '2028-02-29', '2026-12-31']) {
      for (const spec of specs) {
        const period = resolvePeriod(spec, day);
        expect(period.previous.end, `${spec.kind} on ${day}`).toBe(period.start);
        expect(rangeLength(period.previous)).toBeGreaterThan(0);
        expect(rangeLength(period)).toBeGreaterThan(0);
      }
      // mtd compares with the start of the previous month instead: never overlapping, never longer.
      const mtd = resolvePeriod({ kind: 'mtd' }, day);
      expect(mtd.previous.start).toBe(startOfPreviousMonth(day));
      expect(mtd.previous.end <= mtd.start, `mtd on ${day}`).toBe(true);
      expect(rangeLength(mtd.previous)).toBeLessThanOrEqual(rangeLength(mtd));
      expect(rangeLength(mtd.previous)).toBeGreaterThan(0);
    }
  });
});

describe('parsePeriod', () => {
  it('accepts the named periods, case-insensitively', () => {
    expect(parsePeriod('today')).toEqual({ kind: 'today' });
    expect(parsePeriod('yesterday')).toEqual({ kind: 'yesterday' });
    expect(parsePeriod('mtd')).toEqual({ kind: 'mtd' });
    expect(parsePeriod('last-month')).toEqual({ kind: 'last-month' });
    expect(parsePeriod('MTD')).toEqual({ kind: 'mtd' });
    expect(parsePeriod('Last-Month')).toEqual({ kind: 'last-month' });
  });

  it('accepts Nd from 1d to 400d', () => {
    expect(MAX_PERIOD_DAYS).toBe(400);
    expect(parsePeriod('1d')).toEqual({ kind: 'last-days', days: 1 });
    expect(parsePeriod('7d')).toEqual({ kind: 'last-days', days: 7 });
    expect(parsePeriod('30D')).toEqual({ kind: 'last-days', days: 30 });
    expect(parsePeriod('400d')).toEqual({ kind: 'last-days', days: 400 });
  });

  it('accepts a month, a single date and an inclusive range', () => {
    expect(parsePeriod('2026-02')).toEqual({ kind: 'month', month: '2026-02' });
    expect(parsePeriod('2026-12')).toEqual({ kind: 'month', month: '2026-12' });
    expect(parsePeriod('2026-11-21')).toEqual({ kind: 'range', first: '2026-11-21', last: '2026-11-21' });
    expect(parsePeriod('2026-11-01..2026-11-21')).toEqual({ kind: 'range', first: '2026-11-01', last: '2026-11-21' });
    expect(parsePeriod('2026-11-21..2026-11-21')).toEqual({ kind: 'range', first: '2026-11-21', last: '2026-11-21' });
    // 2025-01-01 … 2026-02-04 is 365 + 35 = 400 days: the longest allowed.
    expect(parsePeriod('2025-01-01..2026-02-04')).toEqual({ kind: 'range', first: '2025-01-01', last: '2026-02-04' });
  });

  function errorOf(token: string): string {
    const result = parsePeriod(token);
    expect('error' in result, `${token} should be rejected`).toBe(true);
    const message = (result as { error: string }).error;
    expect(typeof message).toBe('string');
    expect(message).toMatch(/\.$/); // a sentence
    return message;
  }

  it('explains what is wrong with a bad period', () => {
    expect(errorOf('13x')).toContain('`13x`');
    expect(errorOf('0d')).toMatch(/`0d`.*1d.*400d/);
    expect(errorOf('401d')).toMatch(/`401d`.*1d.*400d/);
    expect(errorOf('2026-13')).toContain('`2026-13`');
    expect(errorOf('2026-00')).toContain('`2026-00`');
    expect(errorOf('2026-02-30..2026-03-01')).toContain('`2026-02-30`');
    expect(errorOf('2026-03-01..2026-02-30')).toContain('`2026-02-30`');
    expect(errorOf('2026-03-05..2026-03-01')).toMatch(/`2026-03-05\.\.2026-03-01`.*before/);
    expect(errorOf('2025-01-01..2026-02-05')).toMatch(/400 days/); // 401 days
    expect(errorOf('week')).toContain('`week`');
    expect(errorOf('2026-1')).toContain('`2026-1`');
  });

  it('accepts years 2000 to 2100', () => {
    expect(parsePeriod('2000-01')).toEqual({ kind: 'month', month: '2000-01' });
    expect(parsePeriod('2100-12')).toEqual({ kind: 'month', month: '2100-12' });
    expect(parsePeriod('2000-01-01')).toEqual({ kind: 'range', first: '2000-01-01', last: '2000-01-01' });
    expect(parsePeriod('2100-12-31')).toEqual({ kind: 'range', first: '2100-12-31', last: '2100-12-31' });
    expect(parsePeriod('2100-12-01..2100-12-31')).toEqual({ kind: 'range', first: '2100-12-01', last: '2100-12-31' });
  });

  it('rejects any other year, in a sentence, instead of failing later', () => {
    const outOfRange = (token: string, shown = token) =>
      expect(errorOf(token)).toBe(`\`${shown}\` is out of range: use a year from 2000 to 2100.`);
    outOfRange('9999-12');
    outOfRange('0000-01');
    outOfRange('1999-12');
    outOfRange('2101-01');
    outOfRange('9999-12-31');
    outOfRange('0001-01-01');
    outOfRange('1999-12-31');
    outOfRange('2101-01-01');
    outOfRange('9999-12-01..9999-12-31', '9999-12-01');
    outOfRange('2100-12-31..2101-01-01', '2101-01-01');
    outOfRange('0000-01-01..2026-01-01', '0000-01-01');
    // A date that does not exist is still called that, whatever its year.
    expect(errorOf('9999-02-30')).toContain('is not');
    expect(errorOf('9999-02-30..9999-03-01')).toContain('not a calendar date');
  });

  it('resolves the extreme accepted periods to real dates', () => {
    for (const token of ['2000-01', '2100-12', '2000-01-01', '2100-12-31', '2100-11-27..2100-12-31']) {
      const spec = parsePeriod(token) as PeriodSpec;
      const period = resolvePeriod(spec, '2026-11-21');
      for (const date of [period.start, period.end, period.previous.start, period.previous.end]) {
        expect(isPlainDate(date), `${token}: ${date}`).toBe(true);
      }
    }
  });

  it('every accepted form in PERIOD_FORMS that is literal parses', () => {
    for (const form of PERIOD_FORMS) {
      if (form.startsWith('YYYY')) continue;
      expect('error' in parsePeriod(form), form).toBe(false);
    }
  });

  it('looksLikePeriod tells attempted periods from words', () => {
    for (const token of ['7d', '13x', '2026-11', 'Today', 'MTD', 'last-month', 'a..b']) {
      expect(looksLikePeriod(token), token).toBe(true);
    }
    for (const token of ['service', 'payments', 'week', 'by']) {
      expect(looksLikePeriod(token), token).toBe(false);
    }
  });
});
