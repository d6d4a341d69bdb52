/**
 * The shape of the demo organisation: its regions, accounts, services and teams.
 *
 * This is structure, not data: it says which teams run which services where and in what
 * proportion. The line items and every daily figure are generated from it and a seed by
 * demo-organisation.ts, so the demo can answer for any date without a checked-in dataset.
 */

/** A region the demo organisation runs in, with the prefix its usage types carry. */
export interface DemoRegion {
  readonly code: string;
  readonly usagePrefix: string;
}

/** The three regions of the demo organisation (prefixes as Cost Explorer writes them). */
export const DEMO_REGIONS = {
  usEast1: { code: 'us-east-1', usagePrefix: 'USE1' },
  euWest1: { code: 'eu-west-1', usagePrefix: 'EU' },
  apSoutheast2: { code: 'ap-southeast-2', usagePrefix: 'APS2' },
} as const satisfies Record<string, DemoRegion>;

/** A linked account of the demo organisation. */
export interface DemoAccount {
  readonly id: string;
  readonly name: string;
}

/** The linked accounts: one per environment plus a shared-services account. */
export const DEMO_ACCOUNTS = {
  production: { id: '481516234201', name: 'acme-production' },
  staging: { id: '274039152818', name: 'acme-staging' },
  development: { id: '630917845522', name: 'acme-development' },
  shared: { id: '905812347763', name: 'acme-shared-services' },
} as const satisfies Record<string, DemoAccount>;

/** How one AWS service behaves in the cost model. */
export interface DemoService {
  /** Cost Explorer's SERVICE dimension value. */
  readonly name: string;
  /** Usage types without their region prefix. */
  readonly usageTypes: readonly string[];
  /** How much of the weekday-to-weekend traffic drop this service follows (0 = flat). */
  readonly weekendDip: number;
  /** Covered by savings plans or reservations, so amortized cost is below unblended. */
  readonly committed: boolean;
  /** Relative standard deviation of day-to-day noise. */
  readonly noise: number;
}

/** The services of the demo organisation, keyed by a short id used in team profiles. */
export const DEMO_SERVICES = {
  ec2: {
    name: 'Amazon Elastic Compute Cloud - Compute',
    usageTypes: ['BoxUsage:m6i.xlarge', 'BoxUsage:c6i.2xlarge', 'BoxUsage:r6g.xlarge', 'SpotUsage:m5.2xlarge'],
    weekendDip: 1,
    committed: true,
    noise: 0.05,
  },
  ec2Other: {
    name: 'EC2 - Other',
    usageTypes: ['EBS:VolumeUsage.gp3', 'NatGateway-Hours', 'NatGateway-Bytes', 'EBS:SnapshotUsage'],
    weekendDip: 0.4,
    committed: false,
    noise: 0.04,
  },
  rds: {
    name: 'Amazon Relational Database Service',
    usageTypes: ['InstanceUsage:db.r6g.large', 'Multi-AZUsage:db.r6g.xlarge', 'RDS:GP3-Storage'],
    weekendDip: 0,
    committed: true,
    noise: 0.02,
  },
  s3: {
    name: 'Amazon Simple Storage Service',
    usageTypes: ['TimedStorage-ByteHrs', 'TimedStorage-INT-FA-ByteHrs', 'Requests-Tier1', 'DataTransfer-Out-Bytes'],
    weekendDip: 0,
    committed: false,
    noise: 0.02,
  },
  lambda: {
    name: 'AWS Lambda',
    usageTypes: ['Lambda-GB-Second', 'Lambda-GB-Second-ARM', 'Request'],
    weekendDip: 1,
    committed: true,
    noise: 0.1,
  },
  dynamodb: {
    name: 'Amazon DynamoDB',
    usageTypes: ['ReadRequestUnits', 'WriteRequestUnits', 'TimedStorage-ByteHrs'],
    weekendDip: 0.8,
    committed: false,
    noise: 0.08,
  },
  cloudfront: {
    name: 'Amazon CloudFront',
    usageTypes: ['DataTransfer-Out-Bytes', 'Requests-Tier1'],
    weekendDip: 0.6,
    committed: false,
    noise: 0.08,
  },
  elasticache: {
    name: 'Amazon ElastiCache',
    usageTypes: ['NodeUsage:cache.r6g.large', 'NodeUsage:cache.m6g.xlarge'],
    weekendDip: 0,
    committed: true,
    noise: 0.02,
  },
  opensearch: {
    name: 'Amazon OpenSearch Service',
    usageTypes: ['ESInstance:r6g.large.search', 'ES:GP3-Storage'],
    weekendDip: 0,
    committed: true,
    noise: 0.03,
  },
  ecs: {
    name: 'Amazon Elastic Container Service',
    usageTypes: ['Fargate-vCPU-Hours:perCPU', 'Fargate-GB-Hours'],
    weekendDip: 1,
    committed: true,
    noise: 0.06,
  },
  vpc: {
    name: 'Amazon Virtual Private Cloud',
    usageTypes: ['VpcEndpoint-Hours', 'VpcEndpoint-Bytes', 'PublicIPv4:InUseAddress'],
    weekendDip: 0.2,
    committed: false,
    noise: 0.03,
  },
  cloudwatch: {
    name: 'AmazonCloudWatch',
    usageTypes: ['CW:MetricMonitorUsage', 'DataProcessing-Bytes', 'TimedStorage-ByteHrs'],
    weekendDip: 0.3,
    committed: false,
    noise: 0.06,
  },
  sagemaker: {
    name: 'Amazon SageMaker',
    usageTypes: ['Train:ml.g5.2xlarge', 'Host:ml.m5.xlarge', 'Notebk:ml.t3.medium'],
    weekendDip: 1,
    committed: true,
    noise: 0.12,
  },
  redshift: {
    name: 'Amazon Redshift',
    usageTypes: ['Node:ra3.4xlarge', 'Node:ra3.xlplus'],
    weekendDip: 0,
    committed: true,
    noise: 0.02,
  },
  kms: {
    name: 'AWS Key Management Service',
    usageTypes: ['KMS-Requests', 'KMS-Keys'],
    weekendDip: 0.5,
    committed: false,
    noise: 0.05,
  },
  sqs: {
    name: 'Amazon Simple Queue Service',
    usageTypes: ['Requests-Tier1'],
    weekendDip: 0.8,
    committed: false,
    noise: 0.08,
  },
  eks: {
    name: 'Amazon Elastic Kubernetes Service',
    usageTypes: ['AmazonEKS-Hours:perCluster'],
    weekendDip: 0,
    committed: false,
    noise: 0,
  },
} as const satisfies Record<string, DemoService>;

/** Short id of a demo service. */
export type DemoServiceId = keyof typeof DEMO_SERVICES;

/** An environment a team deploys to: its Environment tag, account and relative size. */
export interface DemoEnvironment {
  /** Environment tag value ('' = not tagged). */
  readonly tag: string;
  readonly account: DemoAccount;
  /** Size relative to production. */
  readonly scale: number;
  /** Extra weekend drop for environments that are scaled down when nobody works. */
  readonly weekendShutdown: number;
  /** Probability that a team runs a given service in this environment at all. */
  readonly presence: number;
  /** Spread over all the team's regions (production), or only its home region. */
  readonly multiRegion: boolean;
}

/** The environments every product team runs. */
export const STANDARD_ENVIRONMENTS: readonly DemoEnvironment[] = [
  { tag: 'production', account: DEMO_ACCOUNTS.production, scale: 1, weekendShutdown: 0, presence: 1, multiRegion: true },
  { tag: 'staging', account: DEMO_ACCOUNTS.staging, scale: 0.2, weekendShutdown: 0.3, presence: 0.85, multiRegion: false },
  { tag: 'development', account: DEMO_ACCOUNTS.development, scale: 0.14, weekendShutdown: 0.5, presence: 0.7, multiRegion: false },
];

/** A team (or the untagged remainder) and the spend profile the generator expands. */
export interface DemoTeam {
  /** Team tag value; '' for spend nobody tagged. */
  readonly name: string;
  /** Share of the organisation's spend at the epoch. */
  readonly share: number;
  /** Typical growth per month (a fraction: 0.02 = 2%). */
  readonly monthlyGrowth: number;
  /** Production regions with their share of the team's production footprint; the first is home. */
  readonly regions: readonly (readonly [DemoRegion, number])[];
  readonly environments: readonly DemoEnvironment[];
  /** Relative weight of each service in the team's spend. */
  readonly services: Readonly<Partial<Record<DemoServiceId, number>>>;
}

const { usEast1, euWest1, apSoutheast2 } = DEMO_REGIONS;

/** The teams of the demo organisation, plus the untagged shared spend ('' team). */
export const DEMO_TEAMS: readonly DemoTeam[] = [
  {
    name: 'payments',
    share: 0.17,
    monthlyGrowth: 0.018,
    regions: [[usEast1, 0.65], [euWest1, 0.35]],
    environments: STANDARD_ENVIRONMENTS,
    services: { ec2: 30, rds: 25, ec2Other: 8, elasticache: 8, dynamodb: 6, lambda: 5, cloudwatch: 4, s3: 4, kms: 3, sqs: 3 },
  },
  {
    name: 'checkout',
    share: 0.13,
    monthlyGrowth: 0.022,
    regions: [[usEast1, 0.7], [apSoutheast2, 0.3]],
    environments: STANDARD_ENVIRONMENTS,
    services: { ecs: 30, ec2: 10, rds: 18, elasticache: 12, cloudfront: 10, lambda: 6, cloudwatch: 5, s3: 4, ec2Other: 5 },
  },
  {
    name: 'search',
    share: 0.15,
    monthlyGrowth: 0.015,
    regions: [[euWest1, 0.55], [usEast1, 0.45]],
    environments: STANDARD_ENVIRONMENTS,
    services: { opensearch: 45, ec2: 20, ec2Other: 10, s3: 8, elasticache: 8, cloudwatch: 5, lambda: 4 },
  },
  {
    name: 'data-platform',
    share: 0.2,
    monthlyGrowth: 0.02,
    regions: [[usEast1, 1]],
    environments: STANDARD_ENVIRONMENTS,
    services: { redshift: 30, s3: 20, ec2: 18, ec2Other: 8, dynamodb: 6, lambda: 4, cloudwatch: 4, sqs: 2 },
  },
  {
    name: 'mobile',
    share: 0.08,
    monthlyGrowth: 0.012,
    regions: [[apSoutheast2, 0.5], [usEast1, 0.5]],
    environments: STANDARD_ENVIRONMENTS,
    services: { cloudfront: 30, lambda: 20, dynamodb: 20, s3: 12, ecs: 10, cloudwatch: 8 },
  },
  {
    name: 'ml-platform',
    share: 0.12,
    monthlyGrowth: 0.028,
    regions: [[usEast1, 0.8], [euWest1, 0.2]],
    environments: STANDARD_ENVIRONMENTS,
    services: { sagemaker: 50, ec2: 20, s3: 15, ec2Other: 8, cloudwatch: 4 },
  },
  {
    name: 'identity',
    share: 0.07,
    monthlyGrowth: 0.01,
    regions: [[euWest1, 0.6], [usEast1, 0.25], [apSoutheast2, 0.15]],
    environments: STANDARD_ENVIRONMENTS,
    services: { ec2: 35, rds: 20, eks: 10, dynamodb: 10, kms: 8, cloudwatch: 7, lambda: 5 },
  },
  {
    name: '',
    share: 0.08,
    monthlyGrowth: 0.015,
    regions: [[usEast1, 0.6], [euWest1, 0.25], [apSoutheast2, 0.15]],
    environments: [
      { tag: '', account: DEMO_ACCOUNTS.shared, scale: 1, weekendShutdown: 0, presence: 1, multiRegion: true },
      { tag: '', account: DEMO_ACCOUNTS.production, scale: 0.3, weekendShutdown: 0, presence: 0.6, multiRegion: false },
    ],
    services: { ec2Other: 30, vpc: 20, cloudwatch: 20, s3: 15, ec2: 10, kms: 5 },
  },
];
