/**
 * What the bot's own model calls cost: list prices by model id, operator prices, exact
 * costs for any number of tokens, and how costs are written for people.
 */
import { describe, expect, it } from 'vitest';
import { addUsage, costOf, formatNanoUsd, NO_USAGE, parsePricePerMillion, priceOf, type TokenUsage } from '../../../src/core/ai-pricing.js';

const tokens = (usage: Partial<TokenUsage>): TokenUsage => ({ ...NO_USAGE, ...usage });
/** The cost of `count` tokens of one kind, in nano-dollars. */
const cost = (modelId: string, kind: keyof TokenUsage, count: number) => costOf(tokens({ [kind]: count }), priceOf(modelId)!);
const MILLION = 1_000_000;
/** USD as nano-dollars, from its decimal text (exact). */
const usd = (text: string): bigint => {
  const [whole, fraction = ''] = text.split('.');
  return BigInt(whole!) * 1_000_000_000n + BigInt(fraction.padEnd(9, '0'));
};

describe('list prices', () => {
  it.each([
    // model id, USD per million: input, output, cache read, cache write
    // From the 4.5 models on, geographic profiles (us., eu. …) cost 10% more than global ones.
    ['us.anthropic.claude-sonnet-4-5-20250929-v1:0', '3.3', '16.5', '0.33', '4.125'],
    ['global.anthropic.claude-sonnet-4-5-20250929-v1:0', '3', '15', '0.3', '3.75'],
    ['arn:aws:bedrock:us-east-1:123456789012:inference-profile/global.anthropic.claude-sonnet-4-5-20250929-v1:0', '3', '15', '0.3', '3.75'],
    ['arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-sonnet-4-20250514-v1:0', '3', '15', '0.3', '3.75'],
    ['anthropic.claude-3-7-sonnet-20250219-v1:0', '3', '15', '0.3', '3.75'],
    ['global.anthropic.claude-opus-4-5-20251101-v1:0', '5', '25', '0.5', '6.25'],
    ['us.anthropic.claude-opus-4-1-20250805-v1:0', '15', '75', '1.5', '18.75'],
    ['us.anthropic.claude-haiku-4-5-20251001-v1:0', '1.1', '5.5', '0.11', '1.375'],
    ['global.anthropic.claude-haiku-4-5-20251001-v1:0', '1', '5', '0.1', '1.25'],
    ['global.anthropic.claude-opus-4-6-v1', '5', '25', '0.5', '6.25'],
    ['anthropic.claude-3-5-haiku-20241022-v1:0', '0.8', '4', '0.08', '1'],
    ['anthropic.claude-3-haiku-20240307-v1:0', '0.25', '1.25', '0.025', '0.3125'],
    ['us.amazon.nova-pro-v1:0', '0.8', '3.2', '0.2', '0'],
    ['amazon.nova-lite-v1:0', '0.06', '0.24', '0.015', '0'],
    ['amazon.nova-micro-v1:0', '0.035', '0.14', '0.00875', '0'],
  ])('%s costs exactly its list price per million tokens of each kind', (modelId, input, output, cacheRead, cacheWrite) => {
    expect(cost(modelId, 'input', MILLION)).toBe(usd(input));
    expect(cost(modelId, 'output', MILLION)).toBe(usd(output));
    expect(cost(modelId, 'cacheRead', MILLION)).toBe(usd(cacheRead));
    expect(cost(modelId, 'cacheWrite', MILLION)).toBe(usd(cacheWrite));
  });

  it('knows no price for a model it does not list, and the operator’s price wins over the list', () => {
    expect(priceOf('meta.llama3-1-70b-instruct-v1:0')).toBeUndefined();
    expect(priceOf('arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4')).toBeUndefined();
    const operator = parsePricePerMillion('2.5,10')!;
    expect(priceOf('us.anthropic.claude-sonnet-4-5-20250929-v1:0', operator)).toBe(operator);
    expect(priceOf('meta.llama3-1-70b-instruct-v1:0', operator)).toBe(operator);
  });
});

describe('costs', () => {
  it('are exact for billions of tokens, with cent fractions a float would lose', () => {
    const sonnet = priceOf('global.anthropic.claude-sonnet-4-5-20250929-v1:0')!;
    const usage = tokens({ input: 987_654_321_987, output: 123_456_789_123, cacheRead: 4_000_000_000_001, cacheWrite: 7 });
    // 987,654,321,987 × $3/M = $2,962,962.965961; 123,456,789,123 × $15/M = $1,851,851.836845;
    // 4,000,000,000,001 × $0.30/M = $1,200,000.0000003; 7 × $3.75/M = $0.00002625.
    expect(costOf(usage, sonnet)).toBe(usd('2962962.965961') + usd('1851851.836845') + usd('1200000.0000003') + 26_250n);
    expect(formatNanoUsd(costOf(usage, sonnet))).toBe('USD 6,014,814.80');
    // A cost beyond 2^53 nano-dollars stays exact.
    expect(costOf(tokens({ output: Number.MAX_SAFE_INTEGER }), sonnet)).toBe(BigInt(Number.MAX_SAFE_INTEGER) * 15_000n);
  });

  it('of a thousand million Nova Micro cache reads or Claude 3 Haiku cache writes are their list price, not a rounded per-token one', () => {
    expect(cost('amazon.nova-micro-v1:0', 'cacheRead', 1_000 * MILLION)).toBe(usd('8.75'));
    expect(cost('anthropic.claude-3-haiku-20240307-v1:0', 'cacheWrite', 1_000 * MILLION)).toBe(usd('312.5'));
    // Below a nano-dollar, the cost rounds half up once per call, never per token.
    expect(cost('amazon.nova-micro-v1:0', 'cacheRead', 1)).toBe(9n);
    expect(cost('amazon.nova-micro-v1:0', 'cacheRead', 4)).toBe(35n);
  });

  it('add up token by token', () => {
    const a = tokens({ input: 1, output: 2, cacheRead: 3, cacheWrite: 4 });
    expect(addUsage(a, addUsage(a, NO_USAGE))).toEqual({ input: 2, output: 4, cacheRead: 6, cacheWrite: 8 });
  });
});

describe('operator prices (BEDROCK_PRICE_PER_MTOK)', () => {
  it('reads input,output[,cacheRead[,cacheWrite]] in USD per million tokens, with Anthropic’s cache ratios by default', () => {
    const price = parsePricePerMillion(' 3 , 15 ')!;
    expect(price).toEqual(priceOf('anthropic.claude-sonnet-4-20250514-v1:0'));
    expect(parsePricePerMillion('3,15,0.3,3.75')).toEqual(price);
    const million = (usage: Partial<TokenUsage>, text: string) => costOf(tokens(usage), parsePricePerMillion(text)!);
    expect(million({ cacheRead: MILLION }, '0.25,1.25')).toBe(usd('0.025'));
    expect(million({ cacheWrite: MILLION }, '0.25,1.25')).toBe(usd('0.3125'));
    expect(million({ cacheRead: MILLION }, '1,2,0')).toBe(0n);
    expect(million({ cacheWrite: MILLION }, '1,2,0')).toBe(usd('1.25'));
  });

  it('is exact to the six decimals it accepts', () => {
    expect(costOf(tokens({ input: MILLION, output: MILLION }), parsePricePerMillion('0.000001,123.456789')!)).toBe(usd('0.000001') + usd('123.456789'));
    expect(costOf(tokens({ input: 3 * MILLION }), parsePricePerMillion('0.123457,1')!)).toBe(usd('0.370371'));
  });

  it.each(['3', '3,15,0.3,3.75,1', '-3,15', '3,abc', '3,,15', '3.1234567,15', '1e3,15', '', '3;15', '$3,15'])('refuses %j', (text) => {
    expect(parsePricePerMillion(text)).toBeUndefined();
  });
});

describe('formatNanoUsd', () => {
  it.each([
    [0n, 'USD 0.00'],
    [1n, '< USD 0.0001'],
    [49_999n, '< USD 0.0001'],
    [50_000n, 'USD 0.0001'],
    [4_249_999n, 'USD 0.0042'],
    [4_250_000n, 'USD 0.0043'],
    [9_949_999n, 'USD 0.0099'],
    [9_999_999n, 'USD 0.0100'],
    [10_000_000n, 'USD 0.01'],
    [1_274_999_999n, 'USD 1.27'],
    [1_275_000_000n, 'USD 1.28'],
    [1_234_567_894_999_999n, 'USD 1,234,567.89'],
    [123_456_789_012_345_678_901n, 'USD 123,456,789,012.35'],
    [-4_250_000n, '-USD 0.0043'],
    [-2_005_000_000n, '-USD 2.01'],
  ])('%s nano-dollars → %s', (nano, text) => {
    expect(formatNanoUsd(nano)).toBe(text);
  });
});
