import { describe, expect, it } from 'vitest';
import { COMMAND_USAGE } from '../../src/app/command.js';
import { sparkline } from '../../src/core/sparkline.js';
import { closestMatch, editDistance } from '../../src/core/suggest.js';

const BARS = '▁▂▃▄▅▆▇█';
const COMMANDS = Object.keys(COMMAND_USAGE);

describe('sparkline', () => {
  it('draws nothing for no values', () => {
    expect(sparkline([])).toBe('');
  });

  it('draws one bar per value up to the width, and never more than the width', () => {
    expect([...sparkline([1, 2, 3, 4, 5])]).toHaveLength(5);
    expect([...sparkline(Array.from({ length: 30 }, (_, i) => i))]).toHaveLength(30);
    expect([...sparkline(Array.from({ length: 100 }, (_, i) => i))]).toHaveLength(30);
    expect([...sparkline(Array.from({ length: 365 }, (_, i) => i % 7), 12)]).toHaveLength(12);
    expect([...sparkline(Array.from({ length: 31 }, (_, i) => i), 30)]).toHaveLength(30);
  });

  it('draws a flat series as a flat line', () => {
    const line = sparkline([42, 42, 42, 42, 42]);
    expect([...line]).toHaveLength(5);
    expect(new Set(line).size).toBe(1);
    expect(BARS).toContain(line[0]);
  });

  it('gives the maximum the full bar and the minimum the lowest', () => {
    expect(sparkline([0, 7])).toBe('▁█');
    expect(sparkline([0, 1, 2, 3, 4, 5, 6, 7])).toBe(BARS);
    expect(sparkline([5, 1000, 5])).toBe('▁█▁');
    const line = sparkline([3, 9, 4, 12, 6]);
    expect(line[3]).toBe('█');
    expect(line[0]).toBe('▁');
    expect(line.indexOf('█')).toBe(line.lastIndexOf('█'));
  });

  it('keeps the shape when averaging a long series into buckets', () => {
    // 60 days: first half low, second half high → 30 buckets of two days each.
    const values = [...Array.from({ length: 30 }, () => 1), ...Array.from({ length: 30 }, () => 9)];
    expect(sparkline(values)).toBe('▁'.repeat(15) + '█'.repeat(15));
    // Pairs (1,3) and (5,7) average to 2 and 6: the extremes of the bucketed series.
    expect(sparkline([1, 3, 5, 7], 2)).toBe('▁█');
  });
});

describe('editDistance', () => {
  it('counts insertions, deletions and substitutions', () => {
    expect(editDistance('', '')).toBe(0);
    expect(editDistance('cost', 'cost')).toBe(0);
    expect(editDistance('abc', '')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('forcast', 'forecast')).toBe(1);
    expect(editDistance('budgett', 'budget')).toBe(1);
    expect(editDistance('tap', 'top')).toBe(1);
  });

  it('counts a swap of neighbours as one edit', () => {
    expect(editDistance('cots', 'cost')).toBe(1);
    expect(editDistance('ab', 'ba')).toBe(1);
    expect(editDistance('stauts', 'status')).toBe(1);
  });

  it('is symmetric', () => {
    for (const [a, b] of [['cots', 'cost'], ['kitten', 'sitting'], ['region', 'regon'], ['ca', 'abc']] as const) {
      expect(editDistance(a, b)).toBe(editDistance(b, a));
    }
  });

  it('is optimal string alignment: a swapped pair is not edited again', () => {
    // "ca" → "abc": true Damerau-Levenshtein says 2 (swap, then insert between), OSA says 3.
    expect(editDistance('ca', 'abc')).toBe(3);
  });
});

describe('closestMatch', () => {
  it('suggests the subcommand closest to a typo', () => {
    expect(closestMatch('forcast', COMMANDS)).toBe('forecast');
    expect(closestMatch('cots', COMMANDS)).toBe('cost');
    expect(closestMatch('buget', COMMANDS)).toBe('budget');
    expect(closestMatch('anomalys', COMMANDS)).toBe('anomalies');
  });

  it('ignores case', () => {
    expect(closestMatch('FORCAST', COMMANDS)).toBe('forecast');
    expect(closestMatch('cots', ['Cost', 'Top'])).toBe('Cost');
  });

  it('completes a prefix of at least two letters', () => {
    expect(closestMatch('rights', COMMANDS)).toBe('rightsizing');
    expect(closestMatch('anom', COMMANDS)).toBe('anomalies');
  });

  it('suggests nothing for unrelated words or no candidates', () => {
    expect(closestMatch('banana', COMMANDS)).toBeUndefined();
    expect(closestMatch('xyzzy', COMMANDS)).toBeUndefined();
    expect(closestMatch('kubernetes', COMMANDS)).toBeUndefined();
    expect(closestMatch('cost', [])).toBeUndefined();
  });

  it('allows about one edit per three letters', () => {
    // "regon" → "region": 1 edit; allowed for a 6-letter word is 2.
    expect(closestMatch('regon', ['service', 'region', 'account'])).toBe('region');
    // "tp" → "top": 1 edit, allowed at least 1.
    expect(closestMatch('tp', ['top', 'cost'])).toBe('top');
    // "cxyz" → "cost": 3 edits, allowed 1.
    expect(closestMatch('cxyz', ['cost'])).toBeUndefined();
  });
});
