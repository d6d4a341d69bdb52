/**
 * Tiny deterministic randomness for the demo organisation.
 *
 * Two tools: a sequential generator ({@link mulberry32}) used once to lay out the line
 * items, and a stateless hash ({@link hash32}) used for everything that varies by day.
 * The hash is what makes a day's cost a pure function of (seed, line item, date): no state
 * is carried from one day to the next, so any range can be computed on its own and gives
 * the same figures for the days it shares with any other range.
 */

/** Finaliser of a 32-bit integer hash (lowbias32): spreads every input bit over the output. */
function mix32(value: number): number {
  let h = value | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * An unsigned 32-bit hash of three integers (seed, stream, position). Stateless, so the
 * value for a given day never depends on which other days were asked for.
 */
export function hash32(seed: number, stream: number, position: number): number {
  let h = mix32((seed | 0) ^ 0x9e3779b9);
  h = mix32((h ^ (stream | 0)) + 0x85ebca6b);
  return mix32((h ^ (position | 0)) + 0xc2b2ae35);
}

/** The next hash in a chain, for drawing several independent numbers from one hash. */
export function nextHash(hash: number): number {
  return mix32(hash + 0x68e31da4);
}

/** A 32-bit hash as a uniform number in [0, 1). */
export function toUnit(hash: number): number {
  return hash / 4_294_967_296;
}

/**
 * A seeded sequential generator (mulberry32) returning numbers in [0, 1). Used only where
 * the order of draws is fixed in code (laying out the organisation), never per day.
 */
export function mulberry32(seed: number): () => number {
  let state = seed | 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
