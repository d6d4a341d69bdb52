/**
 * Anomaly detection quality (the issue: "precision, recall and F1 on (a) the demo
 * organisation's injected anomalies and (b) ../shared/datasets/nab-aws-cloudwatch with its
 * label windows, printed beside the baseline the seeds describe — rolling 7-day mean with a
 * 2σ threshold — run on the same data in the same run").
 *
 * (a) The demo organisation (default seed), 400 days to 2026-11-21, aggregated into daily USD
 *     series as the bot will scan them: per team ('' = untagged), team × service, service and
 *     account. Both detectors judge the same series from day 60 on (earlier days are history).
 *     Flags are grouped into runs (`groupFlags`): events. An event matches an injected anomaly
 *     when its scope holds the anomaly's line item and its first day lies in [start − 1,
 *     start + 2] for a spike or [start − 1, start + 7] for a step. Recall counts the anomalies
 *     starting on a judged day that some event matches; precision, the events that match some
 *     anomaly (one that began in the history counts too: finding its tail is no false alarm).
 *     "Material" anomalies add at least the detector's minImpact a day: cheaper ones are
 *     deliberately not alerted, so recall over them is the figure that matters.
 * (b) NAB realAWSCloudwatch: each file as its samples in order (duplicates and gaps kept).
 *     Flags are grouped into runs of consecutive samples; an event is a true positive when
 *     one of its flags lies in a label window, recall counts the windows holding a flag.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listInjectedAnomalies } from '../../src/adapters/demo/demo-anomalies.js';
import { lineItemCentsOn } from '../../src/adapters/demo/demo-daily-costs.js';
import { createDemoOrganisation, dayNumber, type DemoLineItem, expectedDailyCost, noiseFactor } from '../../src/adapters/demo/demo-organisation.js';
import { DEFAULT_DETECTOR_SETTINGS, detectAnomalies, type DetectorSettings, type FlagRun, groupFlags, type SeriesFlag } from '../../src/core/anomaly.js';
import { addDays, eachDay, type PlainDate } from '../../src/core/period.js';

/** Exclusive end of the demo range: its last day is 2026-11-21 (a fixed date, never the clock). */
const DEMO_END: PlainDate = '2026-11-22';
const DEMO_DAYS = 400;
/** Days before the first judged one: the detectors' history. */
const HISTORY_DAYS = 60;
/** Where an event's first day may lie, relative to an injected anomaly's start. */
const MATCH_WINDOW = { spike: [-1, 2], step: [-1, 7] } as const;

/** The baseline the seeds describe: mean and sample σ of the previous 7 values, flag beyond 2σ. */
const BASELINE_WINDOW = 7;
const BASELINE_SIGMAS = 2;

/**
 * Our detector on NAB, chosen once for all 17 files before looking at any result (no tuning
 * per file): 5-minute samples of CPU %, bytes and request counts, so
 * - seasonLength 1: two weeks of data hold too few daily cycles (288 samples each) to estimate
 *   per-phase offsets, and the level (last hour) follows the daily swing anyway;
 * - direction 'both': NAB labels drops as well as rises;
 * - minImpact 0: the units differ per file, so there is no absolute bar; minRelative 0.1 keeps a
 *   relative one (a 10% move), as the cost defaults' 20% does for money;
 * - trainingDays 288 and minHistory 288: the spread from the last day of samples, and no
 *   judgement before a day of history (NAB's own scoring also skips a probationary start);
 * - levelDays 12: the level is the median of the last hour, so a lasting shift is absorbed
 *   within half an hour (one event, not one per sample);
 * - refreshDays 12: the spread re-estimated hourly (it changes slowly; every sample would sort
 *   288 values 60,000 times for nothing);
 * - threshold 4 and relativeNoiseFloor 0.03: the cost defaults, unchanged.
 */
const NAB_SETTINGS: DetectorSettings = {
  threshold: 4,
  minImpact: 0,
  minRelative: 0.1,
  trainingDays: 288,
  levelDays: 12,
  seasonLength: 1,
  minHistory: 288,
  relativeNoiseFloor: 0.03,
  direction: 'both',
  refreshDays: 12,
};
const NAB_FOLDER = join('shared', 'datasets', 'nab-aws-cloudwatch');
const NAB_LABEL_PREFIX = 'realAWSCloudwatch/';

export async function benchAnomalyQuality(): Promise<void> {
  console.log('\n== Anomaly detection quality');
  benchDemo();
  benchNab();
}

// ---- shared scoring ----

interface Score {
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
}

function score(truePositiveEvents: number, events: number, found: number, total: number): Score {
  const precision = events === 0 ? 0 : truePositiveEvents / events;
  const recall = total === 0 ? 0 : found / total;
  return { precision, recall, f1: precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall) };
}

/** The baseline's flags in [from, length): mean and sample σ of the `BASELINE_WINDOW` values before. */
function baselineFlags(values: ArrayLike<number>, from: number, direction: 'up' | 'both'): SeriesFlag[] {
  const flags: SeriesFlag[] = [];
  for (let t = Math.max(from, BASELINE_WINDOW); t < values.length; t++) {
    let sum = 0;
    for (let i = t - BASELINE_WINDOW; i < t; i++) sum += values[i]!;
    const mean = sum / BASELINE_WINDOW;
    let squares = 0;
    for (let i = t - BASELINE_WINDOW; i < t; i++) squares += (values[i]! - mean) ** 2;
    const sigma = Math.sqrt(squares / (BASELINE_WINDOW - 1));
    const excess = values[t]! - mean;
    if ((direction === 'up' ? excess : Math.abs(excess)) > BASELINE_SIGMAS * sigma) {
      flags.push({ index: t, actual: values[t]!, expected: mean, score: sigma === 0 ? Number.POSITIVE_INFINITY : excess / sigma });
    }
  }
  return flags;
}

const fixed = (value: number) => value.toFixed(2);
const count = (value: number) => value.toLocaleString('en');

/** Aligned rows: the first column left-aligned, the others right-aligned. */
function printTable(rows: readonly (readonly string[])[]): void {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  for (const row of rows) console.log(row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  '));
}

// ---- (a) the demo organisation ----

type ScopeKind = 'team' | 'team × service' | 'service' | 'account';

const SCOPE_KEYS: Record<ScopeKind, (item: DemoLineItem) => string> = {
  team: (item) => item.team,
  'team × service': (item) => `${item.team}\u0000${item.service}`,
  service: (item) => item.service,
  account: (item) => item.account,
};
const SCOPE_KINDS = Object.keys(SCOPE_KEYS) as ScopeKind[];

interface Scope {
  readonly kind: ScopeKind;
  readonly key: string;
  /** USD per day over the whole range. */
  readonly values: Float64Array;
}

/** An event: a run of flags in one scope. */
interface DemoEvent {
  readonly scope: Scope;
  readonly first: number;
}

function benchDemo(): void {
  const organisation = createDemoOrganisation();
  const range = { start: addDays(DEMO_END, -DEMO_DAYS), end: DEMO_END };
  const days = eachDay(range);
  const scopes = new Map<string, Scope>();
  const scopeOf = (kind: ScopeKind, item: DemoLineItem): Scope => {
    const key = SCOPE_KEYS[kind](item);
    const id = `${kind}\u0001${key}`;
    let scope = scopes.get(id);
    if (!scope) scopes.set(id, (scope = { kind, key, values: new Float64Array(DEMO_DAYS) }));
    return scope;
  };
  // Each line item's four series, then the cents of every day added into them.
  const seriesOfItem = organisation.lineItems.map((item) => SCOPE_KINDS.map((kind) => scopeOf(kind, item).values));
  days.forEach((date, day) => {
    const { unblended } = lineItemCentsOn(organisation, date);
    for (let index = 0; index < seriesOfItem.length; index++) for (const values of seriesOfItem[index]!) values[day]! += unblended[index]!;
  });
  for (const scope of scopes.values()) for (let day = 0; day < DEMO_DAYS; day++) scope.values[day]! /= 100;
  const monthStarts = Uint8Array.from(days, (date) => (date.endsWith('-01') ? 1 : 0));

  const oursEvents: DemoEvent[] = [];
  const baselineEvents: DemoEvent[] = [];
  for (const scope of scopes.values()) {
    const ours = detectAnomalies(scope.values, DEFAULT_DETECTOR_SETTINGS, { from: HISTORY_DAYS, monthStarts });
    for (const run of groupFlags(ours)) oursEvents.push({ scope, first: run.first });
    for (const run of groupFlags(baselineFlags(scope.values, HISTORY_DAYS, 'up'))) baselineEvents.push({ scope, first: run.first });
  }

  // Anomalies of the whole range match events; those starting on a judged day make recall.
  const firstDay = dayNumber(range.start);
  const anomalies = listInjectedAnomalies(organisation, range).map((anomaly) => {
    const day = dayNumber(anomaly.start);
    const start = day - firstDay;
    // Its extra cost a day: the item's cost that day without anomalies, times (factor − 1).
    const extra = expectedDailyCost(anomaly.lineItem, day) * noiseFactor(organisation.seed, anomaly.lineItem, day) * (anomaly.factor - 1);
    return { anomaly, start, extra };
  });
  const judged = anomalies.filter((entry) => entry.start >= HISTORY_DAYS);
  const material = judged.filter((entry) => entry.extra >= DEFAULT_DETECTOR_SETTINGS.minImpact);
  const matches = (event: DemoEvent, entry: (typeof anomalies)[number]) => {
    const [before, after] = MATCH_WINDOW[entry.anomaly.kind];
    return event.first >= entry.start + before && event.first <= entry.start + after && event.scope.key === SCOPE_KEYS[event.scope.kind](entry.anomaly.lineItem);
  };
  const evaluate = (events: readonly DemoEvent[]) => {
    const hits = events.filter((event) => anomalies.some((entry) => matches(event, entry))).length;
    const found = new Set(judged.filter((entry) => events.some((event) => matches(event, entry))));
    const foundMaterial = material.filter((entry) => found.has(entry)).length;
    return {
      events: events.length,
      hits,
      found,
      foundMaterial,
      all: score(hits, events.length, found.size, judged.length),
      material: score(hits, events.length, foundMaterial, material.length),
    };
  };
  const ours = evaluate(oursEvents);
  const baseline = evaluate(baselineEvents);

  const perKind = SCOPE_KINDS.map((kind) => `${[...scopes.values()].filter((scope) => scope.kind === kind).length} ${kind}`).join(', ');
  const spikes = judged.filter((entry) => entry.anomaly.kind === 'spike').length;
  console.log(
    `demo organisation (seed ${organisation.seed}), ${DEMO_DAYS} days ${range.start}…${addDays(DEMO_END, -1)}, unblended USD a day: ${count(scopes.size)} series ` +
      `(${perKind}); both detectors judge days ${HISTORY_DAYS + 1}–${DEMO_DAYS} (from ${days[HISTORY_DAYS]})`,
  );
  console.log(
    `injected anomalies starting on judged days: ${judged.length} (${spikes} spikes, ${judged.length - spikes} steps), ` +
      `of which material (extra ≥ USD ${DEFAULT_DETECTOR_SETTINGS.minImpact} a day, the detector's minImpact): ${material.length}`,
  );
  console.log('recall = injected anomalies found / all of them; recall (material) = over the material ones only; F1 from each');
  printTable([
    ['detector', 'precision', 'recall', 'F1', 'recall (material)', 'F1 (material)', 'events'],
    ...([
      ['ours (DEFAULT_DETECTOR_SETTINGS)', ours],
      [`baseline (${BASELINE_WINDOW}-day mean + ${BASELINE_SIGMAS}σ)`, baseline],
    ] as const).map(([name, r]) => [
      name,
      fixed(r.all.precision),
      `${fixed(r.all.recall)} (${r.found.size}/${judged.length})`,
      fixed(r.all.f1),
      `${fixed(r.material.recall)} (${r.foundMaterial}/${material.length})`,
      fixed(r.material.f1),
      `${count(r.events)} (${r.hits} hits)`,
    ]),
  ]);
  const describe = (entry: (typeof anomalies)[number]) =>
    `${entry.anomaly.kind} ${entry.anomaly.start} ×${entry.anomaly.factor} +USD ${entry.extra.toFixed(0)}/day ${entry.anomaly.lineItem.team || '(untagged)'}/${entry.anomaly.lineItem.service}`;
  const missed = material.filter((entry) => !ours.found.has(entry));
  console.log(`ours missed (material): ${missed.length === 0 ? 'none' : missed.map(describe).join('; ')}`);
  console.log(
    `ours by scope (events/hits): ${SCOPE_KINDS.map((kind) => {
      const events = oursEvents.filter((event) => event.scope.kind === kind);
      return `${kind} ${events.length}/${events.filter((event) => anomalies.some((entry) => matches(event, entry))).length}`;
    }).join(', ')}`,
  );
}

// ---- (b) NAB realAWSCloudwatch ----

/** The NAB folder beside the repository: searched upwards from this module (in src or dist). */
function findNabFolder(): string | undefined {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    if (existsSync(join(dir, NAB_FOLDER))) return join(dir, NAB_FOLDER);
    if (dirname(dir) === dir) return undefined;
  }
}

interface NabTally {
  events: number;
  truePositives: number;
  windowsFound: number;
}

function benchNab(): void {
  const folder = findNabFolder();
  const dataDir = folder && join(folder, 'data', 'realAWSCloudwatch');
  const labelsFile = folder && join(folder, 'labels', 'combined_windows.json');
  if (!dataDir || !labelsFile || !existsSync(dataDir) || !existsSync(labelsFile)) {
    console.log(`NAB realAWSCloudwatch: skipped, ${folder ? `${folder} lacks data/realAWSCloudwatch or labels/combined_windows.json` : `no ${NAB_FOLDER} found above ${dirname(fileURLToPath(import.meta.url))}`}`);
    return;
  }
  const labels = JSON.parse(readFileSync(labelsFile, 'utf8')) as Record<string, [string, string][]>;
  const files = readdirSync(dataDir).filter((name) => name.endsWith('.csv')).sort();
  const ours: NabTally = { events: 0, truePositives: 0, windowsFound: 0 };
  const baseline: NabTally = { events: 0, truePositives: 0, windowsFound: 0 };
  let windowsTotal = 0;
  let samplesTotal = 0;
  const perFile: string[][] = [['file', 'samples', 'windows', 'ours found', 'ours FP', 'baseline found', 'baseline FP']];
  for (const file of files) {
    const { timestamps, values } = parseNabCsv(readFileSync(join(dataDir, file), 'utf8'));
    // Label timestamps carry microseconds; the CSV's do not: compare the first 19 characters.
    const windows = (labels[`${NAB_LABEL_PREFIX}${file}`] ?? []).map(([start, end]) => [start.slice(0, 19), end.slice(0, 19)] as const);
    const windowOf = (index: number) => windows.findIndex(([start, end]) => timestamps[index]! >= start && timestamps[index]! <= end);
    const tally = (flags: readonly SeriesFlag[], into: NabTally) => {
      const runs: FlagRun[] = groupFlags(flags, 0);
      const hit = new Set<number>();
      let truePositives = 0;
      for (const run of runs) {
        const inside = run.flags.map((flag) => windowOf(flag.index)).filter((window) => window >= 0);
        for (const window of inside) hit.add(window);
        if (inside.length > 0) truePositives += 1;
      }
      into.events += runs.length;
      into.truePositives += truePositives;
      into.windowsFound += hit.size;
      return { found: hit.size, falsePositives: runs.length - truePositives };
    };
    // Both judge the same samples: from one day of history (our minHistory) on.
    const a = tally(detectAnomalies(values, NAB_SETTINGS), ours);
    const b = tally(baselineFlags(values, NAB_SETTINGS.minHistory, 'both'), baseline);
    windowsTotal += windows.length;
    samplesTotal += values.length;
    perFile.push([file.replace(/\.csv$/, ''), count(values.length), String(windows.length), `${a.found}/${windows.length}`, String(a.falsePositives), `${b.found}/${windows.length}`, String(b.falsePositives)]);
  }
  console.log(
    `NAB realAWSCloudwatch (${files.length} files, ${count(samplesTotal)} samples, ${windowsTotal} label windows): samples in file order, both detectors judge from sample ` +
      `${NAB_SETTINGS.minHistory + 1}; an event is a run of consecutive flags, a hit when a flag lies in a label window`,
  );
  console.log(
    `ours: seasonLength ${NAB_SETTINGS.seasonLength}, direction ${NAB_SETTINGS.direction}, threshold ${NAB_SETTINGS.threshold}, minImpact ${NAB_SETTINGS.minImpact}, ` +
      `minRelative ${NAB_SETTINGS.minRelative}, training ${NAB_SETTINGS.trainingDays} samples, level ${NAB_SETTINGS.levelDays}, refresh ${NAB_SETTINGS.refreshDays} (the same for every file)`,
  );
  printTable(perFile);
  printTable([
    ['detector', 'precision', 'recall', 'F1', 'events'],
    ...([
      ['ours (settings above)', ours],
      [`baseline (${BASELINE_WINDOW}-sample mean ± ${BASELINE_SIGMAS}σ)`, baseline],
    ] as const).map(([name, tally]) => {
      const s = score(tally.truePositives, tally.events, tally.windowsFound, windowsTotal);
      return [name, fixed(s.precision), `${fixed(s.recall)} (${tally.windowsFound}/${windowsTotal})`, fixed(s.f1), `${count(tally.events)} (${tally.truePositives} hits)`];
    }),
  ]);
}

/** `timestamp,value` rows in file order, as they are (duplicate timestamps and gaps kept). */
function parseNabCsv(text: string): { timestamps: string[]; values: Float64Array } {
  const rows = text.split(/\r?\n/).slice(1).filter((line) => line.trim() !== '');
  const timestamps: string[] = [];
  const values = new Float64Array(rows.length);
  rows.forEach((row, index) => {
    const comma = row.indexOf(',');
    timestamps.push(row.slice(0, comma));
    values[index] = Number(row.slice(comma + 1));
  });
  return { timestamps, values };
}
