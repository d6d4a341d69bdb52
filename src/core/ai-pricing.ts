/**
 * What the bot's own LLM calls cost. Prices are per token in pico-dollars (1e-12 USD), that
 * is micro-dollars per million tokens, so every list price and every price an operator can
 * write (six decimals per million) is an exact integer: $3 per million tokens is 3,000,000,
 * Nova Micro's $0.00875 is 8,750. A call's cost is summed exactly and rounded once, half up,
 * to the nano-dollar (1e-9 USD) that the ledger keeps. Inference profiles (`us.`, `eu.`,
 * `global.` …) and ARNs are matched by the model name inside them.
 */

/** Tokens one model call used. */
export interface TokenUsage {
  readonly input: number;
  readonly output: number;
  readonly cacheRead: number;
  readonly cacheWrite: number;
}

/** Pico-dollars per token (micro-dollars per million tokens), by kind of token. */
export interface ModelPrice {
  readonly input: bigint;
  readonly output: bigint;
  readonly cacheRead: bigint;
  readonly cacheWrite: bigint;
}

const perMillion = (input: number, output: number, cacheRead: number, cacheWrite: number): ModelPrice => ({
  input: BigInt(Math.round(input * 1_000_000)),
  output: BigInt(Math.round(output * 1_000_000)),
  cacheRead: BigInt(Math.round(cacheRead * 1_000_000)),
  cacheWrite: BigInt(Math.round(cacheWrite * 1_000_000)),
});

/** Bedrock on-demand list prices (USD per million tokens), most specific pattern first. */
const PRICES: readonly [RegExp, ModelPrice][] = [
  [/anthropic\.claude-opus-4-[5-9]/, perMillion(5, 25, 0.5, 6.25)],
  [/anthropic\.claude-opus-4/, perMillion(15, 75, 1.5, 18.75)],
  [/anthropic\.claude-3-opus/, perMillion(15, 75, 1.5, 18.75)],
  [/anthropic\.claude-(sonnet-4|3-7-sonnet|3-5-sonnet)/, perMillion(3, 15, 0.3, 3.75)],
  [/anthropic\.claude-haiku-4-5/, perMillion(1, 5, 0.1, 1.25)],
  [/anthropic\.claude-3-5-haiku/, perMillion(0.8, 4, 0.08, 1)],
  [/anthropic\.claude-3-haiku/, perMillion(0.25, 1.25, 0.025, 0.3125)],
  [/amazon\.nova-premier/, perMillion(2.5, 12.5, 0.625, 0)],
  [/amazon\.nova-pro/, perMillion(0.8, 3.2, 0.2, 0)],
  [/amazon\.nova-lite/, perMillion(0.06, 0.24, 0.015, 0)],
  [/amazon\.nova-micro/, perMillion(0.035, 0.14, 0.00875, 0)],
];

/**
 * The price of a model: `override` (set by the operator) when given, else the list price
 * of a known model, else undefined (the cost is then reported as unknown, never guessed).
 */
export function priceOf(modelId: string, override?: ModelPrice): ModelPrice | undefined {
  if (override) return override;
  const price = PRICES.find(([pattern]) => pattern.test(modelId))?.[1];
  if (!price || !REGIONAL_PREMIUM.test(modelId) || GLOBAL_PROFILE.test(modelId)) return price;
  // From Claude's 4.5 models on, geographic and in-Region endpoints cost 10% more than global ones.
  const premium = (value: bigint) => (value * 11n) / 10n;
  return { input: premium(price.input), output: premium(price.output), cacheRead: premium(price.cacheRead), cacheWrite: premium(price.cacheWrite) };
}

/** Claude models priced 10% higher outside the global cross-Region profile (4.5 and later). */
const REGIONAL_PREMIUM = /anthropic\.claude-(?:sonnet|haiku|opus)-4-[5-9]/;
/** A global cross-Region inference profile id or ARN. */
const GLOBAL_PROFILE = /(?:^|[/:])global\./;

/**
 * Reads "input,output[,cacheRead[,cacheWrite]]" in USD per million tokens, as operators
 * write prices (exactly, up to six decimals); undefined when malformed. Missing cache prices
 * default to a tenth of the input price (read) and 1.25× (write), Anthropic's ratios.
 */
export function parsePricePerMillion(text: string): ModelPrice | undefined {
  const parts = text.split(',').map((part) => part.trim());
  if (parts.length < 2 || parts.length > 4 || parts.some((part) => !/^\d+(\.\d{1,6})?$/.test(part))) return undefined;
  const micros = (part: string): bigint => {
    const [whole, fraction = ''] = part.split('.');
    return BigInt(whole!) * 1_000_000n + BigInt(fraction.padEnd(6, '0'));
  };
  const [input, output, cacheRead, cacheWrite] = parts.map(micros) as [bigint, bigint, bigint?, bigint?];
  // Rounded half up to the pico-dollar when the input price has a sixth decimal.
  return { input, output, cacheRead: cacheRead ?? (input + 5n) / 10n, cacheWrite: cacheWrite ?? (input * 5n + 2n) / 4n };
}

/** The cost of some tokens in nano-dollars: exact in pico-dollars, rounded once, half up. */
export function costOf(usage: TokenUsage, price: ModelPrice): bigint {
  const pico =
    BigInt(usage.input) * price.input +
    BigInt(usage.output) * price.output +
    BigInt(usage.cacheRead) * price.cacheRead +
    BigInt(usage.cacheWrite) * price.cacheWrite;
  return (pico + 500n) / 1000n;
}

/** Adds token counts. */
export function addUsage(a: TokenUsage, b: TokenUsage): TokenUsage {
  return { input: a.input + b.input, output: a.output + b.output, cacheRead: a.cacheRead + b.cacheRead, cacheWrite: a.cacheWrite + b.cacheWrite };
}

/** No tokens. */
export const NO_USAGE: TokenUsage = { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 };

/**
 * Nano-dollars as USD for people: four decimals below a cent ("USD 0.0042"), cents above
 * ("USD 1.27"), rounded half up; "< USD 0.0001" for a non-zero cost that rounds to nothing.
 */
export function formatNanoUsd(nano: bigint): string {
  if (nano === 0n) return 'USD 0.00';
  const negative = nano < 0n;
  const magnitude = negative ? -nano : nano;
  const decimals = magnitude < 10_000_000n ? 4 : 2;
  const unit = 10n ** BigInt(9 - decimals);
  const rounded = (magnitude + unit / 2n) / unit;
  if (rounded === 0n) return '< USD 0.0001';
  const scale = 10n ** BigInt(decimals);
  const whole = (rounded / scale).toLocaleString('en-US');
  const fraction = (rounded % scale).toString().padStart(decimals, '0');
  return `${negative ? '-' : ''}USD ${whole}.${fraction}`;
}
