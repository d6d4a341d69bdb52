/**
 * The anomaly scan: runs the detector over every team, team × service, service and account
 * series of the stored daily costs, turns runs of anomalous days into events, merges the
 * events that are one cause seen at several levels (a runaway EC2 job of one team shows in
 * the team, its EC2, all of EC2 and the account), breaks each into its drivers, merges AWS
 * Cost Anomaly Detection's findings, and writes the result to the anomaly store, where a
 * re-detection updates the same anomaly instead of adding one.
 *
 * The most recent stored day is never judged: AWS is still filling it in.
 */
import { allocateImpact } from '../../core/anomaly-drivers.js';
import { DEFAULT_DETECTOR_SETTINGS, type DetectorSettings, detectAnomalies, type FlagRun, groupFlags, severityOf } from '../../core/anomaly.js';
import type { CostMetric, Facet } from '../../core/cost-model.js';
import { amountFromEstimate, sumAmounts, type Amount } from '../../core/money.js';
import { addDays, daysBetween, maxDate, type PlainDate } from '../../core/period.js';
import type { AnomalyDriver, AnomalyRecord, AnomalyScope, AnomalyStore, AwsAnomalyFeed, Clock, CostStore, DetectedAnomaly, DriverDimension } from '../../ports.js';
import { loadFreshness } from '../report-context.js';
import { type CostSeries, loadSeries, risesOf, type SeriesSet, sumAt } from './series.js';
import { anomalyKey } from './anomaly-keys.js';
import { mergeAws } from './aws-merge.js';
import { reconcile } from './reconcile.js';

/** A team's own bars for what counts as an anomaly. */
export interface AnomalyThresholds {
  /** USD per day. */
  readonly minImpact: number;
  /** Share above the expected value (0.2 = 20%). */
  readonly minRelative: number;
}

/** How the scan works. */
export interface AnomalyScanSettings {
  readonly detector: DetectorSettings;
  /** Per-team thresholds where set; everything else uses the detector's. */
  readonly teamThresholds: ReadonlyMap<string, AnomalyThresholds>;
  /** Most recent days judged on each scan. */
  readonly judgeDays: number;
  /** Days read before the judged ones (the detector's training, month starts). */
  readonly historyDays: number;
  readonly metric: CostMetric;
}

/** Defaults: the detector's defaults, the last 90 complete days judged (what `anomalies 90d` lists) against 120 days of history. */
export const DEFAULT_SCAN_SETTINGS: Omit<AnomalyScanSettings, 'metric'> = {
  detector: DEFAULT_DETECTOR_SETTINGS,
  teamThresholds: new Map(),
  judgeDays: 90,
  historyDays: 120,
};

/** What a scan needs. */
export interface ScanDeps {
  readonly store: CostStore;
  readonly anomalies: AnomalyStore;
  readonly clock: Clock;
  /** AWS Cost Anomaly Detection (the `aws` cost source only). */
  readonly awsFeed?: AwsAnomalyFeed | undefined;
  readonly logger?: { warn(details: object, message: string): void } | undefined;
}

/** What a scan did. */
export interface ScanReport {
  /** Why nothing was judged, when nothing was. */
  readonly skipped?: 'no-data' | 'locked';
  /** Last day judged (the day before the most recent stored day). */
  readonly lastJudged?: PlainDate;
  /** Anomalies written (new, re-detected or ended). */
  readonly saved: readonly AnomalyRecord[];
  /** AWS Cost Anomaly Detection could not be read: why. */
  readonly awsError?: string;
}

const FACETS: readonly Facet[] = ['service', 'account', 'region', 'usage-type'];
/** Most specific first: the scope an event is shown by when several levels found it. */
const SPECIFICITY: Readonly<Record<AnomalyScope['kind'], number>> = { 'team-service': 0, team: 1, service: 2, account: 3, aws: 4 };
/** Days of AWS Cost Anomaly Detection history read on each scan. */
const AWS_HISTORY_DAYS = 90;

/** One run of anomalous days in one series, with the team and service it is put down to. */
interface Candidate {
  readonly scope: AnomalyScope;
  readonly series: CostSeries;
  readonly run: FlagRun;
  readonly team: string;
  readonly service: string;
}

/** Everything the scan read. */
interface Readings {
  readonly days: readonly PlainDate[];
  readonly teams: SeriesSet;
  readonly teamServices: SeriesSet;
  readonly services: SeriesSet;
  readonly accounts: SeriesSet;
  /** The team × dimension series the root cause reads, fetched only for what was found. */
  readonly drivers: DriverSeries;
  readonly currency: string;
}

/**
 * Team × dimension series read on demand — one team's (or one account's) at a time, each
 * once — so a scan holds the usage types of the teams with anomalies, not of everyone.
 */
class DriverSeries {
  private readonly cache = new Map<string, Promise<SeriesSet>>();

  constructor(
    private readonly store: CostStore,
    private readonly range: { start: PlainDate; end: PlainDate },
    private readonly metric: CostMetric,
  ) {}

  /** One team's spend by the facet's values. */
  ofTeam(facet: Facet, team: string): Promise<SeriesSet> {
    return this.read(facet, { team });
  }

  /** Every team's spend on one value of the facet (one account). */
  ofValue(facet: Facet, value: string): Promise<SeriesSet> {
    return this.read(facet, { value });
  }

  private read(facet: Facet, filter: { team?: string; value?: string }): Promise<SeriesSet> {
    const key = `${facet}\u001f${filter.team ?? ''}\u001f${filter.value ?? ''}\u001f${filter.team === undefined ? 'v' : 't'}`;
    let entry = this.cache.get(key);
    if (!entry) {
      entry = loadSeries(this.store, facet, 'team-value', this.range, this.metric, filter);
      this.cache.set(key, entry);
    }
    return entry;
  }
}

/** Scans the stored costs once, on one instance at a time. */
export async function scanAnomalies(deps: ScanDeps, settings: AnomalyScanSettings): Promise<ScanReport> {
  const report = await deps.anomalies.withScanLock(() => runScan(deps, settings));
  return report ?? { skipped: 'locked', saved: [] };
}

async function runScan(deps: ScanDeps, settings: AnomalyScanSettings): Promise<ScanReport> {
  const freshness = await loadFreshness(deps.store, FACETS);
  if (!freshness.dataThrough || !freshness.dataFrom) return { skipped: 'no-data', saved: [] };
  // The most recent day is provisional: it is read as history for nothing and judged never.
  const end = freshness.dataThrough;
  const lastJudged = addDays(end, -1);
  const range = { start: maxDate(freshness.dataFrom, addDays(end, -(settings.judgeDays + settings.historyDays))), end };
  if (range.start >= range.end) return { skipped: 'no-data', saved: [] };
  const readings = await read(deps.store, range, settings.metric);
  const judgeFrom = Math.max(0, readings.days.length - settings.judgeDays);
  const candidates = await findCandidates(readings, settings, judgeFrom);
  const events = await Promise.all(mergeCandidates(candidates).map((group) => toDetected(readings, group, settings)));
  let awsError: string | undefined;
  if (deps.awsFeed) {
    try {
      const aws = await deps.awsFeed.getAnomalies({ start: addDays(end, -AWS_HISTORY_DAYS), end: addDays(end, 1) });
      mergeAws(events, aws, readings, lastJudged, readings.days[judgeFrom] ?? range.start);
    } catch (error) {
      awsError = error instanceof Error ? error.message : String(error);
      deps.logger?.warn({ err: error }, 'could not read AWS Cost Anomaly Detection; scanning with our detector only');
    }
  }
  const known = await deps.anomalies.listSince(addDays(readings.days[judgeFrom] ?? range.start, -2));
  const toSave = reconcile(events, known, { lastJudged, judgedFrom: readings.days[judgeFrom] ?? range.start, awsAnswered: deps.awsFeed !== undefined && awsError === undefined });
  const saved = await deps.anomalies.saveDetected(toSave, deps.clock.now());
  return { lastJudged, saved, ...(awsError ? { awsError } : {}) };
}

async function read(store: CostStore, range: { start: PlainDate; end: PlainDate }, metric: CostMetric): Promise<Readings> {
  const [teams, teamServices, services, accounts, currency] = await Promise.all([
    loadSeries(store, 'service', 'team', range, metric),
    loadSeries(store, 'service', 'team-value', range, metric),
    loadSeries(store, 'service', 'value', range, metric),
    loadSeries(store, 'account', 'value', range, metric),
    store.currency(),
  ]);
  return { days: teams.days, teams, teamServices, services, accounts, drivers: new DriverSeries(store, range, metric), currency: currency ?? 'USD' };
}

/** Runs the detector over every scope's series and puts each run down to a team and a service. */
async function findCandidates(readings: Readings, settings: AnomalyScanSettings, judgeFrom: number): Promise<Candidate[]> {
  const monthStarts = Uint8Array.from(readings.days, (day) => (day.endsWith('-01') ? 1 : 0));
  // Day number of the first day: the detector's re-estimates then fall on fixed calendar days.
  const origin = daysBetween('1970-01-01', readings.days[0] ?? '1970-01-01');
  const runs: { scope: AnomalyScope; series: CostSeries; run: FlagRun; owned: boolean }[] = [];
  const scan = (set: SeriesSet, scopeOf: (series: CostSeries) => AnomalyScope, team: (series: CostSeries) => string | undefined) => {
    for (const series of set.series.values()) {
      const owner = team(series);
      const thresholds = owner === undefined ? undefined : settings.teamThresholds.get(owner);
      const detector = thresholds ? { ...settings.detector, ...thresholds } : settings.detector;
      // Days before a series' first spend are zero, not unknown: a new service is judged against them.
      if (!series.amounts.some((amount) => amount !== 0n)) continue;
      for (const run of groupFlags(detectAnomalies(series.usd, detector, { from: judgeFrom, monthStarts, origin }))) {
        runs.push({ scope: scopeOf(series), series, run, owned: owner !== undefined });
      }
    }
  };
  scan(readings.teamServices, (series) => ({ kind: 'team-service', team: series.team, value: series.value }), (series) => series.team);
  scan(readings.teams, (series) => ({ kind: 'team', team: series.team }), (series) => series.team);
  scan(readings.services, (series) => ({ kind: 'service', value: series.value }), () => undefined);
  scan(readings.accounts, (series) => ({ kind: 'account', value: series.value }), () => undefined);
  const candidates: Candidate[] = [];
  for (const { scope, series, run, owned } of runs) {
    const [team, service] = await attribute(readings, scope, run);
    // A service- or account-wide run put down to a team must clear that team's own bars too.
    const credited = owned ? run : withinThresholds(run, settings.teamThresholds.get(team));
    if (credited) candidates.push({ scope, series, run: credited, team, service });
  }
  return candidates;
}

/** The run's days that clear a team's own bars (the run unchanged without any), or undefined when none do. */
function withinThresholds(run: FlagRun, thresholds: AnomalyThresholds | undefined): FlagRun | undefined {
  if (!thresholds) return run;
  const flags = run.flags.filter((flag) => {
    const excess = flag.actual - flag.expected;
    return excess >= thresholds.minImpact && (flag.expected <= 0 || excess / flag.expected >= thresholds.minRelative);
  });
  return flags.length === 0 ? undefined : { first: flags[0]!.index, last: flags.at(-1)!.index, flags };
}

/** The team and service a run is put down to: the scope's own, or the one that rose most within it. */
async function attribute(readings: Readings, scope: AnomalyScope, run: FlagRun): Promise<[string, string]> {
  const days = run.flags.map((flag) => flag.index);
  const topService = (team: string) => risesOf(readings.teamServices, days, (series) => (series.team === team ? series.value : undefined))[0]?.key ?? '';
  switch (scope.kind) {
    case 'team-service':
      return [scope.team, scope.value];
    case 'team':
      return [scope.team, topService(scope.team)];
    case 'service': {
      const team = risesOf(readings.teamServices, days, (series) => (series.value === scope.value ? series.team : undefined))[0]?.key ?? '';
      return [team, scope.value];
    }
    case 'account': {
      const accountTeams = await readings.drivers.ofValue('account', scope.value);
      const team = risesOf(accountTeams, days, (series) => series.team)[0]?.key ?? '';
      return [team, topService(team)];
    }
    case 'aws':
      return ['', scope.value];
  }
}

/**
 * Groups the candidates that are one event: put down to the same team and service, on days
 * that overlap or touch. The most specific scope leads each group.
 */
function mergeCandidates(candidates: readonly Candidate[]): Candidate[][] {
  const groups: Candidate[][] = [];
  const ordered = [...candidates].sort((a, b) => SPECIFICITY[a.scope.kind] - SPECIFICITY[b.scope.kind] || a.run.first - b.run.first);
  for (const candidate of ordered) {
    const group = groups.find((members) => {
      const lead = members[0]!;
      return lead.team === candidate.team && lead.service === candidate.service && candidate.run.first <= lead.run.last + 2 && candidate.run.last >= lead.run.first - 2;
    });
    if (group) group.push(candidate);
    else groups.push([candidate]);
  }
  return groups;
}

/** The anomaly a group describes, from its leading (most specific) candidate. */
async function toDetected(readings: Readings, group: readonly Candidate[], settings: AnomalyScanSettings): Promise<DetectedAnomaly> {
  const lead = group[0]!;
  const flags = lead.run.flags;
  const days = flags.map((flag) => flag.index);
  const actual = sumAt(lead.series, days);
  const expected = sumAmounts(flags.map((flag) => amountFromEstimate(flag.expected)));
  const impact = actual - expected;
  const peak = Math.max(...flags.map((flag) => flag.actual - flag.expected));
  const peakFlag = flags.find((flag) => flag.actual - flag.expected === peak)!;
  const minImpact = settings.teamThresholds.get(lead.team)?.minImpact ?? settings.detector.minImpact;
  const firstDay = readings.days[lead.run.first]!;
  return {
    key: anomalyKey(lead.team, lead.service, firstDay),
    scope: lead.scope,
    team: lead.team,
    firstDay,
    lastDay: readings.days[lead.run.last]!,
    active: lead.run.last === readings.days.length - 1,
    expected,
    actual,
    impact,
    severity: severityOf(peak, peakFlag.expected, minImpact),
    score: Math.round(Math.max(...flags.map((flag) => flag.score)) * 10) / 10,
    currency: readings.currency,
    drivers: await driversOf(readings, lead, days, impact),
    source: 'finops',
    awsAnomalyId: undefined,
  };
}

/** The impact broken down by every dimension the stored facts allow for the scope. */
async function driversOf(readings: Readings, lead: Candidate, days: readonly number[], impact: Amount): Promise<AnomalyDriver[]> {
  const { scope } = lead;
  const dimensions: [DriverDimension, SeriesSet, (series: CostSeries) => string | undefined][] = [];
  const values = (series: CostSeries) => series.value;
  if (scope.kind === 'team' || scope.kind === 'team-service') {
    const [accounts, regions, usageTypes] = await Promise.all(
      (['account', 'region', 'usage-type'] as const).map((facet) => readings.drivers.ofTeam(facet, scope.team)),
    );
    if (scope.kind === 'team') dimensions.push(['service', readings.teamServices, (series) => (series.team === scope.team ? series.value : undefined)]);
    dimensions.push(['account', accounts!, values], ['region', regions!, values], ['usage-type', usageTypes!, values]);
  } else if (scope.kind === 'service') {
    dimensions.push(['team', readings.teamServices, (series) => (series.value === scope.value ? series.team : undefined)]);
  } else if (scope.kind === 'account') {
    dimensions.push(['team', await readings.drivers.ofValue('account', scope.value), (series) => series.team]);
  }
  return dimensions.flatMap(([dimension, set, pick]) => allocateImpact(impact, risesOf(set, days, pick)).map((share) => ({ dimension, ...share })));
}
