/**
 * Unicode sparklines: a day-by-day shape of spend in one line of text, readable in Slack,
 * Teams and a terminal alike.
 */

const BARS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/**
 * Draws `values` as bars scaled between their minimum and maximum; a flat series is a flat
 * line. Long series are averaged into at most `width` buckets.
 */
export function sparkline(values: readonly number[], width = 30): string {
  if (values.length === 0) return '';
  const buckets = bucket(values, width);
  const min = Math.min(...buckets);
  const max = Math.max(...buckets);
  if (max === min) return BARS[3]!.repeat(buckets.length);
  return buckets.map((value) => BARS[Math.round(((value - min) / (max - min)) * (BARS.length - 1))]!).join('');
}

function bucket(values: readonly number[], width: number): number[] {
  if (values.length <= width) return [...values];
  const result: number[] = [];
  for (let i = 0; i < width; i++) {
    const from = Math.floor((i * values.length) / width);
    const to = Math.floor(((i + 1) * values.length) / width);
    const slice = values.slice(from, Math.max(to, from + 1));
    result.push(slice.reduce((sum, value) => sum + value, 0) / slice.length);
  }
  return result;
}
