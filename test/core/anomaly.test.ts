import { describe, expect, it } from 'vitest';
import {
  DEFAULT_DETECTOR_SETTINGS,
  type DetectorSettings,
  detectAnomalies,
  groupFlags,
  median,
  type SeriesFlag,
  severityOf,
} from '../../src/core/anomaly.js';
import { eachDay, isoWeekday, type PlainDate } from '../../src/core/period.js';
import { seeded } from '../support/seeded-random.js';

/*
 * Daily cost series in USD. Unless a case builds its series from calendar dates, index i
 * is day i and index 0 is a Monday: i % 7 of 5 and 6 are Saturday and Sunday.
 */

/** Usual weekday spend. */
const WEEKDAY_LEVEL = 1_000;
/** Weekends cost 40% less. */
const WEEKEND_FACTOR = 0.6;

const isWeekend = (index: number) => index % 7 >= 5;
/** The first weekday (Monday–Friday) at or after `index`. */
const weekdayFrom = (index: number) => {
  let day = index;
  while (isWeekend(day)) day++;
  return day;
};

/** The usual spend of a day with weekday seasonality, before noise. */
const seasonal = (index: number, level = WEEKDAY_LEVEL) => (isWeekend(index) ? level * WEEKEND_FACTOR : level);

/**
 * `length` days of weekday-seasonal spend around `level`, each day off by up to ±`noise`
 * (a share: 0.05 = ±5%), from a seeded generator so every run sees the same series.
 */
function weeklySeries(length: number, seed: number, { level = WEEKDAY_LEVEL, noise = 0.05 } = {}): Float64Array {
  const random = seeded(seed);
  return Float64Array.from({ length }, (_, index) => seasonal(index, level) * (1 + (random() * 2 - 1) * noise));
}

function series(length: number, valueAt: (index: number) => number): Float64Array {
  return Float64Array.from({ length }, (_, index) => valueAt(index));
}

const indices = (flags: readonly SeriesFlag[]) => flags.map((flag) => flag.index);

function settings(overrides: Partial<DetectorSettings>): DetectorSettings {
  return { ...DEFAULT_DETECTOR_SETTINGS, ...overrides };
}

/** Marks the 1st of each month among `dates`. */
function monthStartMask(dates: readonly PlainDate[]): Uint8Array {
  return Uint8Array.from(dates, (date) => (date.endsWith('-01') ? 1 : 0));
}

describe('detectAnomalies: normal spend', () => {
  it('raises nothing over 120 days of ordinary weeks with quiet weekends and ±5% noise', () => {
    // Prepare: four months of weekday seasonality under noise, over several seeds.
    for (const seed of [1, 2, 3, 4, 5]) {
      const values = weeklySeries(120, seed);

      // Act
      const flags = detectAnomalies(values, DEFAULT_DETECTOR_SETTINGS);

      // Assess: weekend drops and Monday returns are the pattern, not anomalies.
      expect(indices(flags), `seed ${seed}`).toEqual([]);
    }
  });

  it('raises nothing on ordinary weeks even with the minimum impact and relative bars removed (the baseline explains the pattern)', () => {
    // Prepare
    const values = weeklySeries(120, 11);
    const scoreOnly = settings({ minImpact: 0, minRelative: 0 });

    // Act
    const up = detectAnomalies(values, scoreOnly);
    const both = detectAnomalies(values, { ...scoreOnly, direction: 'both' });

    // Assess: not even a weekend counts as a drop.
    expect(indices(up)).toEqual([]);
    expect(indices(both)).toEqual([]);
  });

  it('raises nothing on a flat series or an all-zero series', () => {
    // Prepare
    const flat = series(120, () => 250);
    const zero = series(120, () => 0);

    // Act / Assess
    expect(detectAnomalies(flat, DEFAULT_DETECTOR_SETTINGS)).toEqual([]);
    expect(detectAnomalies(zero, DEFAULT_DETECTOR_SETTINGS)).toEqual([]);
    expect(detectAnomalies(flat, settings({ direction: 'both' }))).toEqual([]);
    expect(detectAnomalies(zero, settings({ direction: 'both' }))).toEqual([]);
  });

  it('does not turn cents of wiggle on a flat series into alerts, even with the minimum impact and relative bars removed', () => {
    // Prepare: USD 100.00 a day, and on one day in ten a few cents more or less.
    const random = seeded(21);
    const values = series(120, () => (random() < 0.1 ? 100 + (random() < 0.5 ? 0.37 : -0.23) : 100));
    const noBars = settings({ minImpact: 0, minRelative: 0, direction: 'both' });

    // Act
    const withDefaults = detectAnomalies(values, DEFAULT_DETECTOR_SETTINGS);
    const withFloor = detectAnomalies(values, noBars);
    const withoutFloor = detectAnomalies(values, { ...noBars, relativeNoiseFloor: 0 });

    // Assess: the spread is floored at a share of the level, so cents never score.
    expect(withDefaults).toEqual([]);
    expect(withFloor).toEqual([]);
    // Without that floor the spread of a series stuck on one value is nothing, and cents would alert.
    expect(withoutFloor.length).toBeGreaterThan(0);
  });
});

describe('detectAnomalies: spikes and steps', () => {
  it('flags a one-day spike on that day only, against the usual weekday level', () => {
    // Prepare: one weekday at four times its usual spend.
    const values = weeklySeries(120, 3);
    const spikeDay = weekdayFrom(80);
    values[spikeDay] = values[spikeDay]! * 4;

    // Act
    const flags = detectAnomalies(values, DEFAULT_DETECTOR_SETTINGS);

    // Assess
    expect(indices(flags)).toEqual([spikeDay]);
    const [flag] = flags;
    expect(flag!.actual).toBe(values[spikeDay]);
    expect(Math.abs(flag!.expected - WEEKDAY_LEVEL)).toBeLessThan(0.1 * WEEKDAY_LEVEL);
    expect(flag!.score).toBeGreaterThanOrEqual(DEFAULT_DETECTOR_SETTINGS.threshold);
  });

  it('flags a weekend spike against the weekend level, not the weekday one', () => {
    // Prepare: a Saturday at 2.5× its usual 600 — 1,500, only 1.5× a weekday.
    const values = weeklySeries(120, 4);
    const saturday = 75;
    expect(isWeekend(saturday)).toBe(true);
    values[saturday] = seasonal(saturday) * 2.5;

    // Act
    const flags = detectAnomalies(values, DEFAULT_DETECTOR_SETTINGS);

    // Assess
    expect(indices(flags)).toEqual([saturday]);
    expect(Math.abs(flags[0]!.expected - seasonal(saturday))).toBeLessThan(0.1 * seasonal(saturday));
  });

  it('reports a two-day spike as one run', () => {
    // Prepare: two consecutive weekdays at four times the usual spend.
    const values = weeklySeries(120, 5);
    const first = 79; // Tuesday
    expect(isWeekend(first) || isWeekend(first + 1)).toBe(false);
    values[first] = values[first]! * 4;
    values[first + 1] = values[first + 1]! * 4;

    // Act
    const runs = groupFlags(detectAnomalies(values, DEFAULT_DETECTOR_SETTINGS));

    // Assess
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ first, last: first + 1 });
    expect(indices(runs[0]!.flags)).toEqual([first, first + 1]);
  });

  it('flags a step change on its first days only: the level absorbs it, one run rather than an alert a day', () => {
    // Prepare: spend 60% higher from day 70 on, for seven more weeks.
    const stepDay = 70;
    const values = weeklySeries(120, 6);
    for (let i = stepDay; i < values.length; i++) values[i] = values[i]! * 1.6;

    // Act
    const flags = detectAnomalies(values, DEFAULT_DETECTOR_SETTINGS);
    const runs = groupFlags(flags);

    // Assess
    expect(runs).toHaveLength(1);
    const [run] = runs;
    expect(run!.first).toBe(stepDay);
    // Within the level window the new spend becomes the usual.
    expect(run!.last).toBeLessThan(stepDay + DEFAULT_DETECTOR_SETTINGS.levelDays);
    // And nothing afterwards, for weeks.
    expect(flags.every((flag) => flag.index <= run!.last)).toBe(true);
    expect(values.length - run!.last).toBeGreaterThan(40);
  });

  it('raises no cost-rise alert after spend steps down (savings are not spikes)', () => {
    // Prepare: spend halves from day 80 (a Thursday) on — say after rightsizing — for eleven weeks.
    const stepDay = 80;
    const values = weeklySeries(160, 6);
    for (let i = stepDay; i < values.length; i++) values[i] = values[i]! * 0.5;

    // Act
    const flags = detectAnomalies(values, DEFAULT_DETECTOR_SETTINGS);

    // Assess: with direction 'up' nothing is flagged — in particular not the weekends after
    // the drop, which cost what weekends at the new level cost.
    expect(
      flags.map((flag) => ({ index: flag.index, weekend: isWeekend(flag.index), actual: Math.round(flag.actual), expected: Math.round(flag.expected) })),
    ).toEqual([]);
  });
});

describe('detectAnomalies: new spend', () => {
  it('flags a new service spending USD 500 a day once, as a run, then treats it as usual', () => {
    // Prepare: nothing for 60 days, then USD 500 a day.
    const appears = 60;
    const values = series(120, (i) => (i < appears ? 0 : 500));

    // Act
    const flags = detectAnomalies(values, DEFAULT_DETECTOR_SETTINGS);
    const runs = groupFlags(flags);

    // Assess
    expect(runs).toHaveLength(1);
    expect(runs[0]!.first).toBe(appears);
    expect(runs[0]!.last).toBeLessThan(appears + DEFAULT_DETECTOR_SETTINGS.levelDays);
    expect(runs[0]!.flags[0]).toMatchObject({ actual: 500, expected: 0 });
  });

  it('does not flag a new service spending USD 5 a day (below the minimum impact)', () => {
    // Prepare
    const values = series(120, (i) => (i < 60 ? 0 : 5));

    // Act
    const flags = detectAnomalies(values, DEFAULT_DETECTOR_SETTINGS);

    // Assess
    expect(flags).toEqual([]);
  });
});

describe('detectAnomalies: history', () => {
  it('ignores the days before firstValid: missing history is not zero spend', () => {
    // Prepare: the first 42 days are unknown (stored as 0); real spend starts on day 42.
    const firstValid = 42; // a Monday, so the weekday pattern lines up as elsewhere
    const ordinary = weeklySeries(140, 8);
    const values = series(140, (i) => (i < firstValid ? 0 : ordinary[i]!));

    // Act
    const withoutFirstValid = detectAnomalies(values, DEFAULT_DETECTOR_SETTINGS);
    const withFirstValid = detectAnomalies(values, DEFAULT_DETECTOR_SETTINGS, { firstValid });

    // Assess: read as zeros, those days make the real spend look new.
    expect(withoutFirstValid.map((flag) => flag.index)).toContain(firstValid);
    // Marked as unknown, they are not used and nothing is flagged.
    expect(withFirstValid).toEqual([]);
  });

  it('judges no day before minHistory valid days, even when asked to', () => {
    // Prepare: spikes 10 and 30 valid days in.
    const firstValid = 42;
    const ordinary = weeklySeries(140, 9);
    const values = series(140, (i) => (i < firstValid ? 0 : ordinary[i]!));
    const early = weekdayFrom(firstValid + 10);
    const later = weekdayFrom(firstValid + 30);
    values[early] = values[early]! * 5;
    values[later] = values[later]! * 5;

    // Act
    const flags = detectAnomalies(values, DEFAULT_DETECTOR_SETTINGS, { firstValid, from: 0 });

    // Assess
    expect(early - firstValid).toBeLessThan(DEFAULT_DETECTOR_SETTINGS.minHistory);
    expect(indices(flags)).toEqual([later]);
    expect(flags.every((flag) => flag.index >= firstValid + DEFAULT_DETECTOR_SETTINGS.minHistory)).toBe(true);
  });

  it('judges a spike once there are minHistory valid days before it', () => {
    // Prepare: a spike exactly minHistory valid days in, and one a day earlier in a copy.
    const firstValid = 43; // so that both of those days are weekdays
    const { minHistory } = DEFAULT_DETECTOR_SETTINGS;
    const ordinary = weeklySeries(140, 10);
    const atLimit = firstValid + minHistory;
    const beforeLimit = atLimit - 1;
    expect(isWeekend(atLimit) || isWeekend(beforeLimit)).toBe(false);
    const spikeAt = (day: number) => series(140, (i) => (i < firstValid ? 0 : i === day ? ordinary[i]! * 5 : ordinary[i]!));

    // Act
    const judged = detectAnomalies(spikeAt(atLimit), DEFAULT_DETECTOR_SETTINGS, { firstValid });
    const tooEarly = detectAnomalies(spikeAt(beforeLimit), DEFAULT_DETECTOR_SETTINGS, { firstValid });

    // Assess
    expect(indices(judged)).toEqual([atLimit]);
    expect(tooEarly).toEqual([]);
  });
});

describe('detectAnomalies: minimum impact and relative bars', () => {
  it('does not flag a rise that is large in relative terms but tiny in USD', () => {
    // Prepare: a USD 10-a-day series; one weekday at four times that (USD 30 over).
    const values = weeklySeries(120, 12, { level: 10 });
    const spikeDay = weekdayFrom(80);
    values[spikeDay] = values[spikeDay]! * 4;

    // Act
    const withDefaults = detectAnomalies(values, DEFAULT_DETECTOR_SETTINGS);
    const withTeamBar = detectAnomalies(values, settings({ minImpact: 10 }));

    // Assess: the minimum impact alone blocks it…
    expect(withDefaults).toEqual([]);
    // …since a team whose bar is USD 10 does get it.
    expect(indices(withTeamBar)).toEqual([spikeDay]);
  });

  it('does not flag a rise that is large in USD but small relative to a large series', () => {
    // Prepare: USD 100,000 a weekday with ±1% noise; one weekday 15% up (USD 15,000 over).
    const level = 100_000;
    const values = weeklySeries(120, 13, { level, noise: 0.01 });
    const spikeDay = weekdayFrom(80);
    values[spikeDay] = values[spikeDay]! * 1.15;

    // Act
    const withDefaults = detectAnomalies(values, DEFAULT_DETECTOR_SETTINGS);
    const withLowerRelativeBar = detectAnomalies(values, settings({ minRelative: 0.1 }));

    // Assess: the relative bar alone blocks it…
    expect(withDefaults).toEqual([]);
    // …since with a 10% bar it is flagged, far over the minimum impact.
    expect(indices(withLowerRelativeBar)).toEqual([spikeDay]);
    expect(withLowerRelativeBar[0]!.actual - withLowerRelativeBar[0]!.expected).toBeGreaterThan(100 * DEFAULT_DETECTOR_SETTINGS.minImpact);
  });

  it('applies per-team settings: a higher minimum impact silences what the defaults flag', () => {
    // Prepare: a USD 500 rise on a USD 1,000 weekday.
    const values = weeklySeries(120, 14);
    const spikeDay = weekdayFrom(90);
    values[spikeDay] = values[spikeDay]! + 500;

    // Act
    const withDefaults = detectAnomalies(values, DEFAULT_DETECTOR_SETTINGS);
    const withHighBar = detectAnomalies(values, settings({ minImpact: 1_000 }));

    // Assess
    expect(indices(withDefaults)).toEqual([spikeDay]);
    expect(withHighBar).toEqual([]);
  });
});

describe('detectAnomalies: month starts', () => {
  /** 2 January – 14 July 2025: its 1sts are 1 February to 1 July. */
  const dates = eachDay({ start: '2025-01-02', end: '2025-07-15' });
  const monthStarts = monthStartMask(dates);
  const firstOfMonth = dates.flatMap((date, index) => (date.endsWith('-01') ? [index] : []));
  const MONTHLY_FEE = 2_000;

  /** Calendar spend with weekday seasonality and ±5% noise, plus `feeOn(date)` on each 1st. */
  function calendarSeries(seed: number, feeOn: (date: PlainDate) => number): Float64Array {
    const random = seeded(seed);
    return Float64Array.from(dates, (date) => {
      const usual = isoWeekday(date) >= 6 ? WEEKDAY_LEVEL * WEEKEND_FACTOR : WEEKDAY_LEVEL;
      return usual * (1 + (random() * 2 - 1) * 0.05) + (date.endsWith('-01') ? feeOn(date) : 0);
    });
  }

  it('does not flag a recurring monthly fee on each 1st once an earlier 1st is known', () => {
    // Prepare
    expect(firstOfMonth).toHaveLength(6);
    const values = calendarSeries(31, () => MONTHLY_FEE);

    // Act
    const withMask = detectAnomalies(values, DEFAULT_DETECTOR_SETTINGS, { monthStarts });
    const withoutMask = detectAnomalies(values, DEFAULT_DETECTOR_SETTINGS);

    // Assess: told which days are 1sts, the detector expects the fee.
    expect(withMask).toEqual([]);
    // Not told, every 1st looks like a spike.
    expect(indices(withoutMask)).toEqual(firstOfMonth);
  });

  it('flags a 1st whose fee is three times the usual one', () => {
    // Prepare
    const unusual = dates.indexOf('2025-06-01');
    const values = calendarSeries(32, (date) => (date === '2025-06-01' ? 3 * MONTHLY_FEE : MONTHLY_FEE));

    // Act
    const flags = detectAnomalies(values, DEFAULT_DETECTOR_SETTINGS, { monthStarts });

    // Assess: the expectation includes the usual fee, so only the extra is the anomaly.
    expect(indices(flags)).toEqual([unusual]);
    expect(flags[0]!.expected).toBeGreaterThan(MONTHLY_FEE);
    expect(flags[0]!.expected).toBeLessThan(MONTHLY_FEE + WEEKDAY_LEVEL * 1.1);
  });

  it('does not judge the first 1st in the history: nothing tells what its fee should be', () => {
    // Prepare: the first 1st (1 February, 30 days in) carries a fee ten times a day's spend.
    const first = dates.indexOf('2025-02-01');
    expect(first).toBeGreaterThanOrEqual(DEFAULT_DETECTOR_SETTINGS.minHistory);
    const values = calendarSeries(33, (date) => (date === '2025-02-01' ? 10 * WEEKDAY_LEVEL : MONTHLY_FEE));

    // Act
    const withMask = detectAnomalies(values, DEFAULT_DETECTOR_SETTINGS, { monthStarts });
    const withoutMask = detectAnomalies(values, DEFAULT_DETECTOR_SETTINGS);

    // Assess: as an ordinary day it would be flagged; as a first month start it is not judged.
    expect(indices(withoutMask)).toContain(first);
    expect(indices(withMask)).not.toContain(first);
  });
});

describe('detectAnomalies: range and direction', () => {
  it('leaves the most recent day to the caller: `to` excludes it', () => {
    // Prepare: a spike on the last day.
    const values = weeklySeries(121, 15);
    const last = values.length - 1;
    expect(isWeekend(last)).toBe(false);
    values[last] = values[last]! * 4;

    // Act
    const everything = detectAnomalies(values, DEFAULT_DETECTOR_SETTINGS);
    const untilYesterday = detectAnomalies(values, DEFAULT_DETECTOR_SETTINGS, { to: last });

    // Assess
    expect(indices(everything)).toEqual([last]);
    expect(untilYesterday).toEqual([]);
  });

  it("never flags a drop with direction 'up', and flags a large one with 'both'", () => {
    // Prepare: one weekday at a tenth of its usual spend.
    const values = weeklySeries(120, 16);
    const dropDay = weekdayFrom(85);
    values[dropDay] = values[dropDay]! * 0.1;

    // Act
    const up = detectAnomalies(values, DEFAULT_DETECTOR_SETTINGS);
    const both = detectAnomalies(values, settings({ direction: 'both' }));

    // Assess
    expect(up).toEqual([]);
    expect(indices(both)).toEqual([dropDay]);
    expect(both[0]!.actual).toBeLessThan(both[0]!.expected);
    expect(both[0]!.score).toBeLessThanOrEqual(-DEFAULT_DETECTOR_SETTINGS.threshold);
  });

  it("does not flag spend stopping altogether with 'up'", () => {
    // Prepare: spend ends on day 80.
    const values = weeklySeries(120, 17);
    for (let i = 80; i < values.length; i++) values[i] = 0;

    // Act / Assess
    expect(detectAnomalies(values, DEFAULT_DETECTOR_SETTINGS)).toEqual([]);
    expect(detectAnomalies(values, settings({ direction: 'both' })).length).toBeGreaterThan(0);
  });

  it('judges each day only against earlier days: a prefix gets the same flags for its days', () => {
    // Prepare: spikes, a step, a drop and monthly fees over six months, judged in both directions.
    const dates = eachDay({ start: '2025-01-02', end: '2025-07-15' });
    const monthStarts = monthStartMask(dates);
    const random = seeded(41);
    const values = Float64Array.from(dates, (date, index) => {
      const usual = isoWeekday(date) >= 6 ? WEEKDAY_LEVEL * WEEKEND_FACTOR : WEEKDAY_LEVEL;
      let value = usual * (1 + (random() * 2 - 1) * 0.08);
      if (index >= 120) value *= 1.7;
      if (date.endsWith('-01')) value += date === '2025-05-01' ? 6_000 : 2_000;
      return value;
    });
    values[50] = values[50]! * 4;
    values[51] = values[51]! * 3;
    values[95] = values[95]! * 0.1;
    values[160] = values[160]! * 5;
    const judged = settings({ direction: 'both' });

    // Act
    const whole = detectAnomalies(values, judged, { monthStarts });

    // Assess: the scenario is not trivially quiet…
    expect(whole.length).toBeGreaterThanOrEqual(4);
    // …and cutting the series at any day changes nothing before the cut.
    for (let length = 1; length <= values.length; length++) {
      const earlier = whole.filter((flag) => flag.index < length);
      expect(detectAnomalies(values.subarray(0, length), judged, { monthStarts }), `prefix of ${length}`).toEqual(earlier);
      expect(detectAnomalies(values, judged, { monthStarts, to: length }), `to ${length}`).toEqual(earlier);
    }
  });
});

describe('groupFlags', () => {
  const flagsAt = (...days: number[]): SeriesFlag[] => days.map((index) => ({ index, actual: 200, expected: 100, score: 10 }));

  it('groups consecutive flagged days into one run', () => {
    const runs = groupFlags(flagsAt(10, 11, 12));
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ first: 10, last: 12 });
    expect(runs[0]!.flags).toHaveLength(3);
  });

  it('keeps one normal day between two flagged days in the same run, and splits at two', () => {
    expect(groupFlags(flagsAt(10, 12)).map((run) => [run.first, run.last])).toEqual([[10, 12]]);
    expect(groupFlags(flagsAt(10, 13)).map((run) => [run.first, run.last])).toEqual([
      [10, 10],
      [13, 13],
    ]);
  });

  it('follows the gap it is given', () => {
    expect(groupFlags(flagsAt(10, 12), 0)).toHaveLength(2);
    expect(groupFlags(flagsAt(10, 14), 3)).toHaveLength(1);
  });

  it('returns no runs for no flags, and keeps every flag in exactly one run', () => {
    expect(groupFlags([])).toEqual([]);
    const flags = flagsAt(1, 2, 5, 6, 7, 20, 22, 40);
    const runs = groupFlags(flags);
    expect(runs.map((run) => [run.first, run.last])).toEqual([
      [1, 2],
      [5, 7],
      [20, 22],
      [40, 40],
    ]);
    expect(runs.flatMap((run) => run.flags)).toEqual(flags);
  });
});

describe('severityOf', () => {
  const { minImpact } = DEFAULT_DETECTOR_SETTINGS;

  it('rates USD 1,000 or more a day over the expected as high, however large the series', () => {
    expect(severityOf(1_000, 50_000, minImpact)).toBe('high');
    expect(severityOf(4_200, 100_000, minImpact)).toBe('high');
  });

  it('rates tripled spend as high when the excess is material', () => {
    // 100 expected, 400 actual: 300 over, 6× the minimum impact.
    expect(severityOf(300, 100, minImpact)).toBe('high');
    // New spend: nothing expected.
    expect(severityOf(500, 0, minImpact)).toBe('high');
  });

  it('rates USD 250 or more, or doubled spend with a material excess, as medium', () => {
    expect(severityOf(250, 5_000, minImpact)).toBe('medium');
    expect(severityOf(999, 10_000, minImpact)).toBe('medium');
    // 120 expected, 240 actual.
    expect(severityOf(120, 120, minImpact)).toBe('medium');
  });

  it('rates a small excess as low', () => {
    expect(severityOf(60, 1_000, minImpact)).toBe('low');
    expect(severityOf(249, 2_000, minImpact)).toBe('low');
  });

  it('takes the minimum impact into account: a team with a higher bar sees the same tripling as less severe', () => {
    // 100 expected, 300 actual: USD 200 over.
    expect(severityOf(200, 100, 40)).toBe('high');
    expect(severityOf(200, 100, 50)).toBe('medium');
    expect(severityOf(200, 100, 150)).toBe('low');
  });
});

describe('median', () => {
  /** The median by sorting a copy, for reference. */
  function referenceMedian(values: readonly number[]): number {
    const sorted = [...values].sort((a, b) => a - b);
    const middle = sorted.length >> 1;
    return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  }

  it('takes the middle value of an odd count and the mean of the two middle values of an even count', () => {
    expect(median(Float64Array.from([3, 1, 2]), 3)).toBe(2);
    expect(median(Float64Array.from([4, 1, 3, 2]), 4)).toBe(2.5);
    expect(median(Float64Array.from([7]), 1)).toBe(7);
    expect(median(Float64Array.from([9, -1]), 2)).toBe(4);
  });

  it('uses only the first n entries, and gives 0 for none', () => {
    expect(median(Float64Array.from([5, 1, 3, 1_000, 1_000]), 3)).toBe(3);
    expect(median(Float64Array.from([5, 1, 3]), 0)).toBe(0);
    expect(median(new Float64Array(0), 0)).toBe(0);
  });

  it('agrees with sorting on random buffers, small and large, odd and even', () => {
    const random = seeded(99);
    for (let round = 0; round < 2_000; round++) {
      // Prepare: sizes from 1 to 200, sometimes with many repeated values, sometimes sorted.
      const n = 1 + Math.floor(random() * 200);
      const kind = round % 4;
      const values = Array.from({ length: n }, () => (kind === 1 ? Math.floor(random() * 4) : (random() - 0.3) * 1_000));
      if (kind === 2) values.sort((a, b) => a - b);
      if (kind === 3) values.sort((a, b) => b - a);
      const buffer = new Float64Array(n + 5);
      buffer.set(values);
      buffer.fill(1e9, n);

      // Act
      const result = median(buffer, n);

      // Assess
      expect(result, `round ${round}, n = ${n}`).toBe(referenceMedian(values));
      // It reorders the first n entries but loses none, and leaves the rest alone.
      expect([...buffer.subarray(0, n)].sort((a, b) => a - b)).toEqual([...values].sort((a, b) => a - b));
      expect([...buffer.subarray(n)]).toEqual([1e9, 1e9, 1e9, 1e9, 1e9]);
    }
  });

  it('handles constant buffers of every size', () => {
    for (let n = 1; n <= 40; n++) expect(median(new Float64Array(n).fill(42), n)).toBe(42);
  });
});
