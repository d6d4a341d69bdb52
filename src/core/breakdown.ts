/**
 * A total split into its largest items plus one "others" line, rounded to cents so the
 * printed lines add up to the printed total, each with its change against a previous period.
 */
import type { KeyedAmount } from './cost-model.js';
import { type Amount, percentChange, roundPartsToCents, sumAmounts, toCents } from './money.js';

/** One line of a breakdown. */
export interface BreakdownLine {
  readonly key: string;
  /** How many keys the line stands for (1, or the size of "others"). */
  readonly members: number;
  readonly amount: Amount;
  /** The line rounded so that all lines sum to `totalCents`. */
  readonly cents: bigint;
  readonly previous: Amount;
  /** Percentage change against the previous period, when there was spend before. */
  readonly changePercent: number | undefined;
  readonly isOthers: boolean;
}

/** A total with its top lines. */
export interface Breakdown {
  readonly total: Amount;
  readonly totalCents: bigint;
  readonly previousTotal: Amount;
  readonly changePercent: number | undefined;
  readonly lines: readonly BreakdownLine[];
}

/**
 * Builds a breakdown of `current` showing the `limit` largest keys and folding the rest
 * into "others". Keys only present in `previous` still count in the previous total.
 */
export function buildBreakdown(current: readonly KeyedAmount[], previous: readonly KeyedAmount[], limit: number): Breakdown {
  const before = new Map(previous.map((item) => [item.key, item.amount]));
  const sorted = current
    .filter((item) => item.amount !== 0n)
    .sort((a, b) => (b.amount > a.amount ? 1 : b.amount < a.amount ? -1 : a.key.localeCompare(b.key)));
  const shown = sorted.length <= limit + 1 ? sorted : sorted.slice(0, limit);
  const rest = sorted.slice(shown.length);
  const parts = shown.map((item) => item.amount);
  if (rest.length > 0) parts.push(sumAmounts(rest.map((item) => item.amount)));
  const cents = roundPartsToCents(parts);
  const lines: BreakdownLine[] = shown.map((item, index) => {
    const previousAmount = before.get(item.key) ?? 0n;
    return {
      key: item.key,
      members: 1,
      amount: item.amount,
      cents: cents[index]!,
      previous: previousAmount,
      changePercent: percentChange(previousAmount, item.amount),
      isOthers: false,
    };
  });
  if (rest.length > 0) {
    const restKeys = new Set(rest.map((item) => item.key));
    const previousRest = sumAmounts(previous.filter((item) => restKeys.has(item.key)).map((item) => item.amount));
    const amount = parts[parts.length - 1]!;
    lines.push({
      key: 'others',
      members: rest.length,
      amount,
      cents: cents[cents.length - 1]!,
      previous: previousRest,
      changePercent: percentChange(previousRest, amount),
      isOthers: true,
    });
  }
  const total = sumAmounts(current.map((item) => item.amount));
  const previousTotal = sumAmounts(previous.map((item) => item.amount));
  return { total, totalCents: toCents(total), previousTotal, changePercent: percentChange(previousTotal, total), lines };
}

/** One mover: a key whose spend changed between two periods. */
export interface Mover {
  readonly key: string;
  readonly current: Amount;
  readonly previous: Amount;
  readonly delta: Amount;
  readonly changePercent: number | undefined;
}

/**
 * Keys ranked by how much their spend changed, largest increases first, then largest
 * decreases: what drove a change in the total.
 */
export function rankMovers(current: readonly KeyedAmount[], previous: readonly KeyedAmount[]): { increases: Mover[]; decreases: Mover[] } {
  const keys = new Set([...current.map((item) => item.key), ...previous.map((item) => item.key)]);
  const now = new Map(current.map((item) => [item.key, item.amount]));
  const before = new Map(previous.map((item) => [item.key, item.amount]));
  const movers: Mover[] = [...keys].map((key) => {
    const currentAmount = now.get(key) ?? 0n;
    const previousAmount = before.get(key) ?? 0n;
    return {
      key,
      current: currentAmount,
      previous: previousAmount,
      delta: currentAmount - previousAmount,
      changePercent: percentChange(previousAmount, currentAmount),
    };
  });
  const byDelta = (a: Mover, b: Mover) => (b.delta > a.delta ? 1 : b.delta < a.delta ? -1 : a.key.localeCompare(b.key));
  return {
    increases: movers.filter((mover) => toCents(mover.delta) > 0n).sort(byDelta),
    decreases: movers
      .filter((mover) => toCents(mover.delta) < 0n)
      .sort((a, b) => (a.delta < b.delta ? -1 : a.delta > b.delta ? 1 : a.key.localeCompare(b.key))),
  };
}
