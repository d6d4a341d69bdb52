/**
 * The scan's rules on small hand-made organisations, written through the real cost store:
 * a team's own bars hold even when an organisation-wide series finds its rise; an anomaly
 * is not shrunk as the judged window slides past its first day; one AWS anomaly found first
 * by AWS and then by us stays one anomaly.
 */
import { CostExplorerClient, GetAnomaliesCommand } from '@aws-sdk/client-cost-explorer';
import { mockClient } from 'aws-sdk-client-mock';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CostAnomalyFeed } from '../../../src/adapters/aws/cost-anomaly-feed.js';
import { PgAnomalyStore } from '../../../src/adapters/db/anomaly-store.js';
import { PgCostStore } from '../../../src/adapters/db/cost-store.js';
import { DEFAULT_SCAN_SETTINGS, scanAnomalies } from '../../../src/app/anomalies/scan.js';
import { BASE_FACETS, type CostFact } from '../../../src/core/cost-model.js';
import { parseAmount } from '../../../src/core/money.js';
import { eachDay, isoWeekday, type PlainDate } from '../../../src/core/period.js';
import { openTestDatabase, testDatabaseKind, type TestDatabase } from '../../support/test-database.js';
import { FixedClock } from '../../support/world.js';

const FIRST = '2026-05-01';
const SETTINGS = { ...DEFAULT_SCAN_SETTINGS, judgeDays: 20, metric: 'UnblendedCost' } as const;

/** A line of the bill: a team's spend on one service in one account, region and usage type. */
interface Line {
  readonly team: string;
  readonly service: string;
  readonly account: string;
  readonly usageType: string;
  /** USD on a day. */
  readonly usd: (day: PlainDate) => number;
}

/** A steady weekday/weekend pattern with a little deterministic wiggle. */
const steady = (weekday: number) => (day: PlainDate) => (isoWeekday(day) >= 6 ? weekday * 0.7 : weekday) * (1 + 0.01 * ((Number(day.slice(8)) % 5) - 2));

describe(`anomaly scan rules on ${testDatabaseKind}`, () => {
  let test: TestDatabase;
  let store: PgCostStore;
  let anomalies: PgAnomalyStore;
  const clock = new FixedClock(new Date('2026-09-01T08:00:00Z'));

  beforeAll(async () => {
    test = await openTestDatabase();
    store = new PgCostStore(test.database.db);
    anomalies = new PgAnomalyStore(test.database.db);
  });
  afterAll(async () => test?.dispose());
  beforeEach(async () => {
    await test.database.db.execute(sql`truncate anomaly_alerts, anomalies, cost_facts, cost_rollups, sync_state`);
  });

  /** Stores every facet of `lines` for [FIRST, end) as if synced: the data is through the day before `end`. */
  const write = async (lines: readonly Line[], end: PlainDate) => {
    const range = { start: FIRST, end };
    for (const facet of BASE_FACETS) {
      const value = (line: Line) => (facet === 'service' ? line.service : facet === 'account' ? line.account : facet === 'region' ? 'us-east-1' : line.usageType);
      const facts: CostFact[] = eachDay(range).flatMap((date) =>
        lines.map((line) => {
          const amount = parseAmount(line.usd(date).toFixed(2));
          return { date, facet, team: line.team, value: value(line), currency: 'USD', estimated: false, costs: { UnblendedCost: amount, AmortizedCost: amount, NetUnblendedCost: amount } };
        }),
      );
      await store.replaceFacts(facet, range, facts);
      await store.recordSyncAttempt(facet, clock.now(), { syncedUntil: end, syncedFrom: FIRST });
    }
  };

  it("holds a team's own bars when an organisation-wide series is what finds its rise", async () => {
    // payments' EC2 rises by USD 300 on one day: over the organisation's bar (USD 50) but under payments' own (USD 500).
    const spikeDay = '2026-08-20';
    const lines: Line[] = [
      { team: 'payments', service: 'EC2', account: '111111111111', usageType: 'BoxUsage', usd: (day) => steady(1_000)(day) + (day === spikeDay ? 300 : 0) },
      { team: 'search', service: 'EC2', account: '222222222222', usageType: 'BoxUsage', usd: steady(400) },
    ];
    await write(lines, '2026-08-25');
    const withBars = { ...SETTINGS, teamThresholds: new Map([['payments', { minImpact: 500, minRelative: 0.2 }]]) };
    expect((await scanAnomalies({ store, anomalies, clock }, withBars)).saved).toEqual([]);
    // Without payments' own bars the same rise is an anomaly of payments: the bars are what held it back.
    const found = (await scanAnomalies({ store, anomalies, clock }, SETTINGS)).saved;
    expect(found.map((record) => [record.team, record.firstDay])).toEqual([['payments', spikeDay]]);
  });

  it('does not shrink an anomaly when the judged days slide past its first day', async () => {
    // Three days of a runaway job; a later scan's window starts on its second day.
    const spike = ['2026-08-03', '2026-08-04', '2026-08-05'];
    const lines: Line[] = [{ team: 'data', service: 'EMR', account: '333333333333', usageType: 'Instance', usd: (day) => steady(800)(day) * (spike.includes(day) ? 3 : 1) }];
    await write(lines, '2026-08-10');
    const [first] = (await scanAnomalies({ store, anomalies, clock }, SETTINGS)).saved;
    expect(first).toMatchObject({ firstDay: spike[0], lastDay: spike[2] });
    // Data through 2026-08-24: the 20 judged days start on 2026-08-04, inside the run.
    await write(lines, '2026-08-25');
    await scanAnomalies({ store, anomalies, clock }, SETTINGS);
    const after = await anomalies.listSince('2026-01-01');
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({ id: first!.id, firstDay: spike[0], lastDay: spike[2], impact: first!.impact, version: first!.version });
  });

  it('keeps one anomaly when AWS found it before our detector did', async () => {
    const spikeDay = '2026-08-20';
    const lines: Line[] = [{ team: 'web', service: 'CloudFront', account: '444444444444', usageType: 'DataTransfer-Out-Bytes', usd: (day) => steady(600)(day) * (day === spikeDay ? 4 : 1) }];
    await write(lines, '2026-08-25');
    const ce = mockClient(CostExplorerClient);
    try {
      ce.on(GetAnomaliesCommand).resolves({
        Anomalies: [
          {
            AnomalyId: 'aws-cf-1',
            AnomalyStartDate: spikeDay,
            AnomalyEndDate: spikeDay,
            DimensionValue: 'CloudFront',
            RootCauses: [{ Service: 'CloudFront', LinkedAccount: '444444444444', Region: 'us-east-1', UsageType: 'DataTransfer-Out-Bytes', Impact: { Contribution: 1800 } }],
            Impact: { MaxImpact: 1800, TotalImpact: 1800, TotalActualSpend: 2400, TotalExpectedSpend: 600 },
            AnomalyScore: { MaxScore: 80, CurrentScore: 0 },
            MonitorArn: 'arn:aws:ce::123456789012:anomalymonitor/abc',
          },
        ],
      });
      const awsFeed = new CostAnomalyFeed({ client: new CostExplorerClient({ region: 'us-east-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x' } }), ledger: store, clock });
      // First our detector is too deaf to see it (a huge bar): AWS's anomaly is stored on its own.
      const deaf = { ...SETTINGS, detector: { ...SETTINGS.detector, minImpact: 1_000_000 } };
      const [awsOnly] = (await scanAnomalies({ store, anomalies, clock, awsFeed }, deaf)).saved;
      expect(awsOnly).toMatchObject({ source: 'aws', awsAnomalyId: 'aws-cf-1', team: 'web' });
      // Then ours finds it too: the same anomaly (same id, so the same alert), now found by both.
      await scanAnomalies({ store, anomalies, clock, awsFeed }, SETTINGS);
      const stored = await anomalies.listSince('2026-01-01');
      expect(stored).toHaveLength(1);
      expect(stored[0]).toMatchObject({ id: awsOnly!.id, source: 'both', awsAnomalyId: 'aws-cf-1', firstDay: spikeDay });
    } finally {
      ce.restore();
    }
  });
});
