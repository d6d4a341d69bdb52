/**
 * The grounding check: every amount of money in an AI answer must be one the tools
 * returned (exactly, or rounded the way people round: whole units, or thousands and millions
 * with one decimal). Amounts it cannot trace are named under the answer, so a reader knows
 * which figures to doubt.
 */

const AMOUNT = /(?:[$€£]|\b(?:USD|EUR|GBP)\s?)\s?(-?\d[\d,]*(?:\.\d+)?)(?:\s?(k|m|mn|million|thousand)\b)?/gi;

/** An amount as written, and its value in cents (for k/m forms, its value with the precision written). */
interface WrittenAmount {
  readonly text: string;
  readonly cents: number;
  /** Cents per unit of the last written digit: 1 for "$12.34", 100 for "$12", 10,000 for "$1.2k" … */
  readonly step: number;
}

/** The amounts of money written in `text`. */
export function amountsIn(text: string): WrittenAmount[] {
  const found: WrittenAmount[] = [];
  for (const match of text.matchAll(AMOUNT)) {
    const digits = match[1]!.replace(/,/g, '');
    const value = Number(digits);
    if (!Number.isFinite(value)) continue;
    const suffix = (match[2] ?? '').toLowerCase();
    const scale = suffix === 'k' || suffix === 'thousand' ? 1_000 : suffix.startsWith('m') ? 1_000_000 : 1;
    const decimals = digits.includes('.') ? digits.length - digits.indexOf('.') - 1 : 0;
    found.push({ text: match[0].trim(), cents: Math.round(value * scale * 100), step: (scale * 100) / 10 ** decimals });
  }
  return found;
}

/**
 * The amounts of `answer` that no tool result supports. An amount is supported when a tool
 * printed it, or printed a value that rounds to it at the precision it is written with.
 */
export function untracedAmounts(answer: string, toolTexts: readonly string[]): string[] {
  const known = toolTexts.flatMap((text) => amountsIn(text)).filter((amount) => amount.step === 1).map((amount) => Math.abs(amount.cents));
  const untraced = new Set<string>();
  for (const amount of amountsIn(answer)) {
    const cents = Math.abs(amount.cents);
    const traced = known.some((value) => (amount.step <= 1 ? value === cents : Math.abs(value - cents) <= amount.step / 2));
    if (!traced) untraced.add(amount.text);
  }
  return [...untraced];
}
