/**
 * Reads a question in plain words for what the deterministic explainer needs: the period
 * ("last week", "in October", "yesterday"), a team named in it, and services it mentions
 * ("RDS", "EC2"). Pure and forgiving: anything it cannot read is left to the defaults.
 */
import type { PeriodSpec, PlainDate } from '../../core/period.js';

/** What a question is about, as far as its words say. */
export interface QuestionScope {
  readonly period: PeriodSpec | undefined;
  readonly team: string | undefined;
  /** Exact stored service names the question mentions. */
  readonly services: readonly string[];
}

const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];

/** Short names people use for AWS services, and words in the service's Cost Explorer name. */
const SERVICE_WORDS: Readonly<Record<string, readonly string[]>> = {
  rds: ['relational database'],
  aurora: ['relational database'],
  ec2: ['elastic compute cloud', 'ec2 - other'],
  s3: ['simple storage service'],
  lambda: ['lambda'],
  dynamodb: ['dynamodb'],
  cloudfront: ['cloudfront'],
  eks: ['elastic container service for kubernetes', 'elastic kubernetes'],
  ecs: ['elastic container service'],
  fargate: ['elastic container service'],
  cloudwatch: ['cloudwatch'],
  elasticache: ['elasticache'],
  redshift: ['redshift'],
  opensearch: ['opensearch', 'elasticsearch'],
  sagemaker: ['sagemaker'],
  bedrock: ['bedrock'],
  kms: ['key management'],
  nat: ['ec2 - other'],
  'data transfer': ['data transfer'],
  vpc: ['virtual private cloud'],
  kinesis: ['kinesis'],
  sqs: ['simple queue service'],
  sns: ['simple notification service'],
  efs: ['elastic file system'],
  ebs: ['ec2 - other'],
  route53: ['route 53'],
  'route 53': ['route 53'],
};

/**
 * Reads `question` against the known teams and services. `today` anchors month names to
 * their latest occurrence that has started.
 */
export function readQuestion(question: string, known: { teams: readonly string[]; services: readonly string[] }, today: PlainDate): QuestionScope {
  const text = question.toLowerCase();
  // Service words are not team names: "data transfer" says nothing about a team called `data`.
  return { period: periodIn(text, today), team: teamIn(withoutServiceWords(text, known.services), known.teams), services: servicesIn(text, known.services) };
}

function periodIn(text: string, today: PlainDate): PeriodSpec | undefined {
  const days = /\b(?:last|past|previous)\s+(\d{1,3})\s+days?\b/.exec(text) ?? /\b(\d{1,3})\s*d\b/.exec(text);
  if (days) {
    const count = Number(days[1]);
    if (count >= 1 && count <= 400) return { kind: 'last-days', days: count };
  }
  const range = /\b(\d{4}-\d{2}-\d{2})\s*(?:\.\.|to|–|-)\s*(\d{4}-\d{2}-\d{2})\b/.exec(text);
  if (range && range[1]! <= range[2]!) return { kind: 'range', first: range[1]!, last: range[2]! };
  const month = /\b(\d{4})-(\d{2})\b/.exec(text);
  if (month && Number(month[2]) >= 1 && Number(month[2]) <= 12) return { kind: 'month', month: `${month[1]}-${month[2]}` };
  if (/\byesterday\b/.test(text)) return { kind: 'yesterday' };
  if (/\btoday\b/.test(text)) return { kind: 'today' };
  if (/\b(?:last|previous)\s+month\b/.test(text)) return { kind: 'last-month' };
  if (/\b(?:this\s+month|month\s+to\s+date|mtd)\b/.test(text)) return { kind: 'mtd' };
  if (/\b(?:past|last)\s+(?:30\s+days|month)\b/.test(text)) return { kind: 'last-days', days: 30 };
  if (/\b(?:this|last|past|previous)\s+week\b|\bweekly\b|\bwow\b|\bweek\s+over\s+week\b/.test(text)) return { kind: 'last-days', days: 7 };
  if (/\b(?:this|last|past)\s+quarter\b|\b90\s+days\b/.test(text)) return { kind: 'last-days', days: 90 };
  const named = MONTHS.findIndex((name) => monthNamed(text, name));
  if (named !== -1) {
    const year = Number(today.slice(0, 4));
    const candidate = `${year}-${String(named + 1).padStart(2, '0')}`;
    const started = `${candidate}-01` <= today;
    return { kind: 'month', month: started ? candidate : `${year - 1}-${String(named + 1).padStart(2, '0')}` };
  }
  return undefined;
}

/** Whether `text` names the month `name`; "may" only as a month ("in May", "May 2026"), not the verb ("what may have caused"). */
function monthNamed(text: string, name: string): boolean {
  if (name !== 'may') return new RegExp(`\\b${name}\\b`).test(text);
  return /\b(?:in|of|during|for|since|from|until|through|last|this|early|late|mid)\s+may\b|\bmay\s+\d/.test(text);
}

function teamIn(text: string, teams: readonly string[]): string | undefined {
  // Longest names first, so "search-infra" wins over "search".
  const named = [...teams].filter((team) => team !== '').sort((a, b) => b.length - a.length).find((team) => containsWord(text, team.toLowerCase()));
  if (named !== undefined) return named;
  return /\buntagged\b/.test(text) ? '' : undefined;
}

/** The text with the service names and the words for services in it blanked out. */
function withoutServiceWords(text: string, services: readonly string[]): string {
  const phrases = [...services.map((service) => service.toLowerCase()), ...Object.keys(SERVICE_WORDS).filter((word) => word.includes(' '))];
  return phrases.sort((a, b) => b.length - a.length).reduce((rest, phrase) => (phrase.length > 3 ? rest.replaceAll(phrase, ' ') : rest), text);
}

function servicesIn(text: string, services: readonly string[]): string[] {
  const found = new Set<string>();
  for (const [word, fragments] of Object.entries(SERVICE_WORDS)) {
    if (!containsWord(text, word)) continue;
    for (const service of services) if (fragments.some((fragment) => service.toLowerCase().includes(fragment))) found.add(service);
  }
  // A service named in full ("Amazon Relational Database Service").
  for (const service of services) if (service.length > 3 && text.includes(service.toLowerCase())) found.add(service);
  return [...found].slice(0, 3);
}

function containsWord(text: string, word: string): boolean {
  const escaped = word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^\\p{L}\\p{N}_-])${escaped}($|[^\\p{L}\\p{N}_-])`, 'u').test(text);
}
