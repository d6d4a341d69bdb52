/**
 * Rightsizing for the demo organisation: EC2 recommendations shaped like Cost Explorer's
 * GetRightsizingRecommendation, and a simulated EC2 that "carries them out", so approvals,
 * the two-approver rule and execution can be tried end to end without an AWS account.
 *
 * The list is a fixed set of situations (a forgotten dev box, an over-sized API fleet, a
 * big ETL runner …) placed on the teams, accounts and regions that run EC2 in the demo
 * cost data; the seed picks instance ids, names, utilisation and which of the team's EC2
 * accounts/regions each one lives in. No clock, no I/O: the same seed gives the same list.
 */
import { parseAmount, type Amount } from '../../core/money.js';
import type { Clock, ExecutionStep, InstanceChange, InstanceExecutor, RightsizingCandidate, RightsizingSource } from '../../ports.js';
import { DEMO_ACCOUNTS, DEMO_SERVICES, type DemoAccount } from './demo-catalogue.js';
import { createDemoOrganisation, DEFAULT_DEMO_SEED, DEMO_CURRENCY, type DemoLineItem } from './demo-organisation.js';
import { hash32, nextHash, toUnit } from './demo-random.js';

/**
 * us-east-1 Linux on-demand prices in USD per hour, as decimal strings so they parse into
 * exact amounts. The demo applies them in every region (a simplification: eu-west-1 and
 * ap-southeast-2 list prices are a few percent higher).
 */
const HOURLY_PRICES: Readonly<Record<string, string>> = {
  't3.large': '0.0832',
  't3.xlarge': '0.1664',
  'm5.xlarge': '0.192',
  'm5.2xlarge': '0.384',
  'm6i.large': '0.096',
  'm6i.xlarge': '0.192',
  'm6i.2xlarge': '0.384',
  'm6i.4xlarge': '0.768',
  'm6i.12xlarge': '2.304',
  'c6i.xlarge': '0.17',
  'c6i.2xlarge': '0.34',
  'c6i.4xlarge': '0.68',
  'r6g.large': '0.1008',
  'r6g.xlarge': '0.2016',
  'r6g.2xlarge': '0.4032',
  'r6g.4xlarge': '0.8064',
  'r6g.8xlarge': '1.6128',
};

/** Hours in a month as AWS prices them (and as Cost Explorer's monthly estimates use). */
const HOURS_PER_MONTH = 730n;
/** Days of utilisation Cost Explorer's advice rests on by default. */
const LOOKBACK_DAYS = 14;
/** Stream of the per-candidate hashes, apart from the cost model's streams. */
const RIGHTSIZING_STREAM = 0x52_0000;
/** People whose personal boxes get forgotten. */
const OWNERS = ['jdoe', 'asmith', 'mkumar', 'lchen', 'rgarcia', 'tnguyen', 'okafor', 'bsilva'];

/** One situation of the demo's advice; the seed fills in the instance. */
interface Situation {
  readonly team: string;
  /** The account the instance is meant to live in (another of the team's EC2 accounts when the seed gave it none there). */
  readonly account: DemoAccount;
  /** Name prefix; `owner` names get a person's user name, the others a number. */
  readonly name: string;
  readonly owner?: boolean;
  readonly currentType: string;
  /** The smaller type; undefined: the instance is idle and should be stopped. */
  readonly targetType?: string;
  /** Whether the CloudWatch agent reports memory. */
  readonly memory: boolean;
}

const { production, staging, development, shared } = DEMO_ACCOUNTS;

/**
 * The demo's advice: idle instances to stop, over-provisioned ones one or two sizes down in
 * their family, two without the memory agent, and two saving over USD 1,000 a month (so a
 * two-approver threshold has something to catch). Teams are those the catalogue runs EC2 for.
 */
const SITUATIONS: readonly Situation[] = [
  { team: 'payments', account: production, name: 'payments-api', currentType: 'm6i.2xlarge', targetType: 'm6i.xlarge', memory: true },
  { team: 'payments', account: staging, name: 'payments-worker', currentType: 'c6i.4xlarge', targetType: 'c6i.2xlarge', memory: true },
  { team: 'payments', account: development, name: 'payments-sandbox', owner: true, currentType: 't3.xlarge', memory: true },
  { team: 'checkout', account: production, name: 'checkout-web', currentType: 'c6i.2xlarge', targetType: 'c6i.xlarge', memory: false },
  { team: 'checkout', account: production, name: 'checkout-loadtest', currentType: 't3.large', memory: true },
  { team: 'search', account: production, name: 'search-indexer', currentType: 'r6g.2xlarge', targetType: 'r6g.xlarge', memory: true },
  { team: 'search', account: production, name: 'search-query', currentType: 'r6g.8xlarge', targetType: 'r6g.4xlarge', memory: true },
  { team: 'data-platform', account: production, name: 'etl-runner', currentType: 'm6i.12xlarge', targetType: 'm6i.4xlarge', memory: true },
  { team: 'data-platform', account: staging, name: 'spark-driver', currentType: 'm5.2xlarge', targetType: 'm5.xlarge', memory: false },
  { team: 'ml-platform', account: development, name: 'ml-notebook', owner: true, currentType: 'r6g.8xlarge', memory: true },
  { team: 'ml-platform', account: production, name: 'feature-store', currentType: 'm6i.4xlarge', targetType: 'm6i.2xlarge', memory: true },
  { team: 'identity', account: production, name: 'identity-auth', currentType: 'm6i.xlarge', targetType: 'm6i.large', memory: true },
  { team: 'identity', account: staging, name: 'identity-scim', currentType: 'm6i.xlarge', memory: true },
  { team: '', account: shared, name: 'jenkins-agent', currentType: 't3.large', memory: true },
  { team: '', account: shared, name: 'grafana', currentType: 'r6g.xlarge', targetType: 'r6g.large', memory: false },
];

/** What an instance of `type` costs a month at its on-demand price, exactly. */
function monthlyCost(type: string): Amount {
  const hourly = HOURLY_PRICES[type];
  if (hourly === undefined) throw new Error(`demo rightsizing has no price for instance type ${type}`);
  return parseAmount(hourly) * HOURS_PER_MONTH;
}

/** A percentage in [low, high) with one decimal, from a hash. */
function percentBetween(hash: number, low: number, high: number): number {
  return Math.round((low + toUnit(hash) * (high - low)) * 10) / 10;
}

/** Eight hex digits of a hash. */
function hex8(hash: number): string {
  return hash.toString(16).padStart(8, '0');
}

/**
 * The team's EC2 line items in the situation's account. When the seed gave the team no EC2
 * there (staging and development run a service only some of the time), its other
 * non-production EC2, so a forgotten dev box does not turn up in production; else any.
 */
function placesFor(ec2Items: readonly DemoLineItem[], situation: Situation): readonly DemoLineItem[] {
  const team = ec2Items.filter((item) => item.team === situation.team);
  const inAccount = team.filter((item) => item.account === situation.account.id);
  if (inAccount.length > 0) return inAccount;
  const nonProduction = team.filter((item) => item.account !== production.id);
  if (nonProduction.length > 0) return nonProduction;
  if (team.length > 0) return team;
  throw new Error(`the demo organisation has no EC2 for team ${JSON.stringify(situation.team)}`);
}

/** The seed's candidates: one per situation, in the order of {@link SITUATIONS}. */
function generateCandidates(seed: number): RightsizingCandidate[] {
  const ec2Items = createDemoOrganisation(seed).lineItems.filter((item) => item.service === DEMO_SERVICES.ec2.name);
  return SITUATIONS.map((situation, index) => {
    let hash = hash32(seed, RIGHTSIZING_STREAM, index);
    const draw = (): number => (hash = nextHash(hash));
    const places = placesFor(ec2Items, situation);
    const place = places[draw() % places.length]!;
    const instanceId = `i-0${hex8(draw())}${hex8(draw())}`;
    const suffix = situation.owner ? OWNERS[draw() % OWNERS.length]! : String(1 + (draw() % 9));
    const idle = situation.targetType === undefined;
    const cpuMaxPercent = idle ? percentBetween(draw(), 0.3, 4.8) : percentBetween(draw(), 18, 35);
    const memory = idle ? percentBetween(draw(), 6, 22) : percentBetween(draw(), 20, 40);
    const currentMonthlyCost = monthlyCost(situation.currentType);
    const monthlySavings = idle ? currentMonthlyCost : currentMonthlyCost - monthlyCost(situation.targetType!);
    return {
      key: `${place.account}:${instanceId}:${situation.currentType}>${situation.targetType ?? 'stop'}`,
      accountId: place.account,
      region: place.region,
      instanceId,
      instanceName: `${situation.name}-${suffix}`,
      team: situation.team,
      action: idle ? 'terminate' : 'modify',
      currentType: situation.currentType,
      targetType: situation.targetType,
      cpuMaxPercent,
      memoryMaxPercent: situation.memory ? memory : undefined,
      currentMonthlyCost,
      monthlySavings,
      currency: DEMO_CURRENCY,
      lookbackDays: LOOKBACK_DAYS,
    };
  });
}

/** Options of {@link DemoRightsizingSource}. */
export interface DemoRightsizingSourceOptions {
  /** Seed of the demo organisation; the default matches the demo cost source's. */
  readonly seed?: number;
}

/**
 * The demo organisation's EC2 rightsizing advice, in place of Cost Explorer's: 15
 * recommendations on the teams, accounts and regions that carry EC2 spend in the demo cost
 * data, priced at real on-demand rates × 730 hours. A pure function of the seed, so every
 * sync reports the same keys and the store updates rather than duplicates them.
 */
export class DemoRightsizingSource implements RightsizingSource {
  private readonly candidates: readonly RightsizingCandidate[];

  constructor(options: DemoRightsizingSourceOptions = {}) {
    this.candidates = generateCandidates(options.seed ?? DEFAULT_DEMO_SEED);
  }

  async getRecommendations(): Promise<RightsizingCandidate[]> {
    return this.candidates.map((candidate) => ({ ...candidate }));
  }
}

/** Options of {@link DemoInstanceExecutor}. */
export interface DemoInstanceExecutorOptions {
  /** Stamps each step. */
  readonly clock: Clock;
}

/**
 * A pretend EC2 for the demo: the dry run and the change succeed step by step, in the order
 * the real executor takes them, and every step's detail starts with "demo:" so nobody
 * mistakes a demo approval for a change made to a real instance.
 */
export class DemoInstanceExecutor implements InstanceExecutor {
  private readonly clock: Clock;

  constructor(options: DemoInstanceExecutorOptions) {
    this.clock = options.clock;
  }

  /** describe, stop, modify, start (describe and stop for a `terminate`), each "demo: would …". */
  async dryRun(change: InstanceChange): Promise<ExecutionStep[]> {
    const where = `${change.instanceId} (${change.currentType}) in account ${change.accountId}, ${change.region}`;
    const steps: ExecutionStep[] = [
      this.step('describe', `demo: would look up ${where}`),
      this.step('stop', `demo: would stop ${change.instanceId}`),
    ];
    if (change.action === 'terminate') return steps;
    if (change.targetType === undefined) return [...steps, this.failed('modify', 'demo: the recommendation names no type to change to')];
    return [
      ...steps,
      this.step('modify', `demo: would change ${change.instanceId} from ${change.currentType} to ${change.targetType}`),
      this.step('start', `demo: would start ${change.instanceId} again`),
    ];
  }

  /** stop, wait-stopped, modify, start (stop only for a `terminate`); nothing is changed anywhere. */
  async apply(change: InstanceChange): Promise<ExecutionStep[]> {
    if (change.action === 'terminate') {
      return [this.step('stop', `demo: stopped idle ${change.instanceId} (simulated; it could be started again, nothing changed in AWS)`)];
    }
    const steps: ExecutionStep[] = [
      this.step('stop', `demo: stopped ${change.instanceId} (simulated, nothing changed in AWS)`),
      this.step('wait-stopped', `demo: ${change.instanceId} is stopped (simulated)`),
    ];
    if (change.targetType === undefined) {
      return [
        ...steps,
        this.failed('modify', 'demo: the recommendation names no type to change to'),
        this.step('start', `demo: started ${change.instanceId} again as ${change.currentType} (simulated)`),
      ];
    }
    return [
      ...steps,
      this.step('modify', `demo: changed ${change.instanceId} from ${change.currentType} to ${change.targetType} (simulated)`),
      this.step('start', `demo: started ${change.instanceId} as ${change.targetType} (simulated)`),
    ];
  }

  private step(step: string, detail: string): ExecutionStep {
    return { step, ok: true, detail, at: this.clock.now() };
  }

  private failed(step: string, detail: string): ExecutionStep {
    return { step, ok: false, detail, at: this.clock.now() };
  }
}
