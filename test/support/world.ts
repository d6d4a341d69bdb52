/**
 * The outside world for integration tests: a fixed clock, the demo organisation standing
 * behind a fake Cost Explorer HTTP server, and a real CostExplorerSource talking to it.
 * Only the network edge is fake; every module of ours is the real one.
 */
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import { CostExplorerSource, createCostExplorerClient } from '../../src/adapters/aws/cost-explorer-source.js';
import { PgCostStore } from '../../src/adapters/db/cost-store.js';
import { DemoCostSource } from '../../src/adapters/demo/demo-cost-source.js';
import { CommandEngine } from '../../src/app/engine.js';
import type { EngineSettings } from '../../src/app/report-context.js';
import { DEFAULT_SYNC_SETTINGS, type SyncSettings } from '../../src/app/sync-costs.js';
import { BASE_FACETS, type Facet } from '../../src/core/cost-model.js';
import { type Amount, sumAmounts, toCents } from '../../src/core/money.js';
import type { DateRange } from '../../src/core/period.js';
import type { Reply } from '../../src/core/reply.js';
import type { Clock, CostSource } from '../../src/ports.js';
import { renderText } from '../../src/render/text.js';
import { type FakeCostExplorer, startFakeCostExplorer } from './fake-cost-explorer.js';

/** A clock that stays where it is put. */
export class FixedClock implements Clock {
  constructor(private instant: Date) {}
  now(): Date {
    return this.instant;
  }
  set(iso: string): void {
    this.instant = new Date(iso);
  }
}

/** Facets the tests sync: the base ones plus the demo's Environment tag. */
export const TEST_FACETS: readonly Facet[] = [...BASE_FACETS, 'tag:Environment'];

/** Sync settings for tests: a shorter backfill keeps PGlite fast. */
export function testSyncSettings(backfillDays = 120): SyncSettings {
  return { ...DEFAULT_SYNC_SETTINGS, facets: TEST_FACETS, teamTag: 'Team', backfillDays, forecastMetric: 'UnblendedCost' };
}

/** Engine settings matching {@link testSyncSettings}. */
export function testEngineSettings(sourceKind: 'aws' | 'demo' = 'demo'): EngineSettings {
  return { timeZone: 'UTC', teamTag: 'Team', defaultMetric: 'UnblendedCost', facets: TEST_FACETS, sourceKind };
}

/** A fake Cost Explorer endpoint serving the demo organisation, and a real SDK-backed source for it. */
export async function startFakeAws(store: PgCostStore, clock: Clock, pageSize = 5_000): Promise<{ fake: FakeCostExplorer; source: CostExplorerSource }> {
  const fake = await startFakeCostExplorer({ source: new DemoCostSource(), pageSize });
  const client = createCostExplorerClient({
    endpoint: fake.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'not-a-secret' },
    retryStrategy: new ConfiguredRetryStrategy(3, () => 10),
  });
  return { fake, source: new CostExplorerSource({ client, ledger: store, clock }) };
}

/** The engine over a store. */
export function engineFor(store: PgCostStore, clock: Clock, sourceKind: 'aws' | 'demo' = 'demo'): CommandEngine {
  return new CommandEngine({ store, clock, settings: testEngineSettings(sourceKind) }, { error: () => undefined, warn: () => undefined });
}

/**
 * Ground truth straight from a source: the exact total over a range, optionally for one
 * team, computed without our store or engine.
 */
export async function sourceTotal(source: CostSource, range: DateRange, options: { team?: string; metric?: 'UnblendedCost' | 'AmortizedCost' } = {}): Promise<Amount> {
  const rows = await source.getDailyCosts({ range, groupBy: [{ type: 'TAG', key: 'Team' }, { type: 'DIMENSION', key: 'SERVICE' }] });
  return sumAmounts(rows.filter((row) => options.team === undefined || row.keys[0] === options.team).map((row) => row.costs[options.metric ?? 'UnblendedCost']));
}

/** Ground truth in cents. */
export async function sourceTotalCents(source: CostSource, range: DateRange, options?: { team?: string }): Promise<bigint> {
  return toCents(await sourceTotal(source, range, options));
}

/** "USD 1,234.56" or "-USD 3.00" (the first money figure in a text) as cents. */
export function centsIn(text: string): bigint {
  const match = /(-|\+)?USD ([\d,]+)\.(\d\d)/.exec(text);
  if (!match) throw new Error(`no amount in ${JSON.stringify(text)}`);
  const cents = BigInt(match[2]!.replaceAll(',', '')) * 100n + BigInt(match[3]!);
  return match[1] === '-' ? -cents : cents;
}

/** The value of a reply's field labelled `label` (or matching it); throws, showing the reply, when there is none. */
export function replyField(reply: Reply, label: string | RegExp): string {
  for (const block of reply.blocks) {
    if (block.type !== 'fields') continue;
    const found = block.fields.find((candidate) => (typeof label === 'string' ? candidate.label === label : label.test(candidate.label)));
    if (found) return found.value;
  }
  throw new Error(`no field ${label} in ${renderText(reply)}`);
}
