/**
 * Exact money arithmetic.
 *
 * Cost Explorer reports amounts as decimal strings with up to 10 fractional digits
 * ("40.3543773134"). We keep them exactly: an amount is a bigint count of 1e-10 units of
 * its currency, so sums never drift and every total can be recomputed from the source.
 * Rounding happens once, when a figure is shown.
 */

/** An exact amount in 1e-10 units of a currency. */
export type Amount = bigint;

/** Fractional digits kept exactly (the precision Cost Explorer reports). */
export const AMOUNT_SCALE = 10;
const UNIT = 10n ** BigInt(AMOUNT_SCALE);
const CENT = UNIT / 100n;

const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/**
 * Largest exponent accepted. Scaling costs time in the size of the exponent ("1e100000000"
 * would build a hundred-million-digit bigint and block the event loop for seconds), and no
 * cost is anywhere near 1e30 nor has a meaningful digit at 1e-30.
 */
const MAX_EXPONENT = 30;
/** Most digits accepted: a double prints at most 17 significant digits, a cost far fewer. */
const MAX_DIGITS = 40;

/**
 * Parses a decimal string ("12.5", "-0.0000000001", "1.2E-5") into an exact amount.
 * Digits beyond the tenth fractional place are rounded half to even, so a value with more
 * precision than we keep still lands on the nearest representable amount. Exponents beyond
 * ±30 and strings of more than 40 digits are refused, so no input can make the arithmetic slow.
 */
export function parseAmount(text: string): Amount {
  const match = DECIMAL.exec(text.trim());
  if (!match || (match[2] === '' && (match[3] ?? '') === '')) {
    throw new RangeError(`not a decimal amount: ${JSON.stringify(text)}`);
  }
  const [, sign, whole = '', fraction = '', exponentText] = match;
  const exponent = exponentText ? Number(exponentText) : 0;
  if (!(Math.abs(exponent) <= MAX_EXPONENT) || whole.length + fraction.length > MAX_DIGITS) {
    throw new RangeError(`amount out of range: ${JSON.stringify(text)}`);
  }
  const digits = BigInt((whole + fraction) || '0');
  // value = digits × 10^(exponent − fraction.length); we want value × 10^SCALE.
  const shift = exponent - fraction.length + AMOUNT_SCALE;
  let scaled: bigint;
  if (shift >= 0) {
    scaled = digits * 10n ** BigInt(shift);
  } else {
    scaled = divideRoundHalfEven(digits, 10n ** BigInt(-shift));
  }
  return sign === '-' ? -scaled : scaled;
}

/** Exact decimal text of an amount with all ten fractional digits ("40.3543773134"). */
export function amountToDecimalString(amount: Amount): string {
  const negative = amount < 0n;
  const magnitude = negative ? -amount : amount;
  const whole = magnitude / UNIT;
  const fraction = (magnitude % UNIT).toString().padStart(AMOUNT_SCALE, '0');
  return `${negative ? '-' : ''}${whole}.${fraction}`;
}

/** Sums exact amounts. */
export function sumAmounts(amounts: Iterable<Amount>): Amount {
  let total = 0n;
  for (const amount of amounts) total += amount;
  return total;
}

/** Rounds an amount to whole cents (half away from zero, as invoices do), in cents. */
export function toCents(amount: Amount): bigint {
  const negative = amount < 0n;
  const magnitude = negative ? -amount : amount;
  const cents = (magnitude + CENT / 2n) / CENT;
  return negative ? -cents : cents;
}

/** An amount from a whole number of cents. */
export function fromCents(cents: bigint): Amount {
  return cents * CENT;
}

/** An amount from whole currency units given as a number (only for configuration and tests). */
export function fromUnits(units: number): Amount {
  return parseAmount(units.toString());
}

/**
 * Approximate value as a JavaScript number, for things that are estimates anyway
 * (forecast models, percentages, sparklines). Never sum the results.
 */
export function amountToNumber(amount: Amount): number {
  return Number(amount) / Number(UNIT);
}

/** The amount nearest to a floating estimate (a forecast), rounded to whole cents. */
export function amountFromEstimate(value: number): Amount {
  if (!Number.isFinite(value)) throw new RangeError(`not a finite estimate: ${value}`);
  return fromCents(BigInt(Math.round(value * 100)));
}

/**
 * Rounds parts to cents so that the rounded parts add up exactly to the rounded total
 * (largest-remainder method). Use it for any breakdown shown next to its total, so a
 * reader who adds the lines gets the figure printed below them.
 */
export function roundPartsToCents(parts: readonly Amount[]): bigint[] {
  const totalCents = toCents(sumAmounts(parts));
  const floors = parts.map((part) => floorDiv(part, CENT));
  const remainders = parts.map((part, index) => part - floors[index]! * CENT);
  let shortfall = totalCents - sumAmounts(floors);
  const order = parts
    .map((_, index) => index)
    .sort((a, b) => (remainders[b]! > remainders[a]! ? 1 : remainders[b]! < remainders[a]! ? -1 : a - b));
  const result = [...floors];
  for (let i = 0; shortfall > 0n && i < order.length; i++, shortfall--) {
    result[order[i]!]! += 1n;
  }
  for (let i = order.length - 1; shortfall < 0n && i >= 0; i--, shortfall++) {
    result[order[i]!]! -= 1n;
  }
  return result;
}

/** Formats whole cents as money: "USD 1,234.56", "-USD 12.00". */
export function formatCents(cents: bigint, currency: string): string {
  const negative = cents < 0n;
  const magnitude = negative ? -cents : cents;
  const whole = (magnitude / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const fraction = (magnitude % 100n).toString().padStart(2, '0');
  return `${negative ? '-' : ''}${currency} ${whole}.${fraction}`;
}

/** Formats an amount rounded to cents: "USD 1,234.56". */
export function formatAmount(amount: Amount, currency: string): string {
  return formatCents(toCents(amount), currency);
}

/** Formats a signed change: "+USD 1,234.56" or "-USD 12.00". */
export function formatSignedCents(cents: bigint, currency: string): string {
  return cents >= 0n ? `+${formatCents(cents, currency)}` : formatCents(cents, currency);
}

/**
 * Percentage change from `before` to `after`, or undefined when there was nothing before
 * (a change from zero has no meaningful percentage).
 */
export function percentChange(before: Amount, after: Amount): number | undefined {
  if (before === 0n) return undefined;
  // Basis points in exact arithmetic, then one division to a float for display.
  const basisPoints = divideRoundHalfEven((after - before) * 10_000n, before < 0n ? -before : before);
  return Number(basisPoints) / 100;
}

/** Share of `part` in `whole` as a percentage (0–100), or 0 when the whole is zero. */
export function percentShare(part: Amount, whole: Amount): number {
  if (whole === 0n) return 0;
  return Number(divideRoundHalfEven(part * 10_000n, whole)) / 100;
}

/** Formats a percentage with a sign: "+12.3%", "-4.0%". */
export function formatPercent(value: number, signed = true): string {
  const text = `${Math.abs(value).toFixed(1)}%`;
  // A change that rounds to zero has no direction: "0.0%", never "-0.0%".
  if (text === '0.0%') return text;
  if (!signed) return value < 0 ? `-${text}` : text;
  return value < 0 ? `-${text}` : `+${text}`;
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

function divideRoundHalfEven(numerator: bigint, denominator: bigint): bigint {
  const negative = numerator < 0n !== denominator < 0n;
  const n = numerator < 0n ? -numerator : numerator;
  const d = denominator < 0n ? -denominator : denominator;
  let q = n / d;
  const r = n % d;
  if (r * 2n > d || (r * 2n === d && q % 2n === 1n)) q += 1n;
  return negative ? -q : q;
}
