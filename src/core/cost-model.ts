/**
 * The vocabulary of cost data shared by every layer: metrics, dimensions and facets.
 *
 * Daily facts are stored per facet: for each day, the spend of every team split by one
 * other dimension (service, account, region, usage type or an extra tag). Each facet is a
 * complete partition of the day's spend, so any of them gives the same total, and every
 * "by DIM for TEAM" question is one facet read. See README "Data grain".
 */
import type { Amount } from './money.js';
import type { PlainDate } from './period.js';

/** Cost Explorer cost metrics the bot can show. */
export const COST_METRICS = ['UnblendedCost', 'AmortizedCost', 'NetUnblendedCost'] as const;
export type CostMetric = (typeof COST_METRICS)[number];

/** Short words a user may type to pick a metric in a command. */
export const METRIC_WORDS: Readonly<Record<string, CostMetric>> = {
  unblended: 'UnblendedCost',
  amortized: 'AmortizedCost',
  amortised: 'AmortizedCost',
  net: 'NetUnblendedCost',
  'net-unblended': 'NetUnblendedCost',
};

/** Human name of a metric, as printed in every answer. */
export function metricLabel(metric: CostMetric): string {
  switch (metric) {
    case 'UnblendedCost':
      return 'unblended cost';
    case 'AmortizedCost':
      return 'amortized cost';
    case 'NetUnblendedCost':
      return 'net unblended cost';
  }
}

/** A facet: the dimension that each stored fact splits a team's daily spend by. */
export type Facet = 'service' | 'account' | 'region' | 'usage-type' | `tag:${string}`;

/** A dimension a user can group by: any facet, or the team itself. */
export type Dimension = Facet | 'team';

/** The facets every sync stores; extra tag facets are added from configuration. */
export const BASE_FACETS: readonly Facet[] = ['service', 'account', 'region', 'usage-type'];

/** The facet used when only a total or a per-team figure is needed. */
export const TOTAL_FACET: Facet = 'service';

/** Accepted forms of DIM, for help and error messages. */
export const DIMENSION_FORMS = ['service', 'account', 'region', 'team', 'usage-type', 'tag:<Key>'] as const;

/** Value under which spend without a team (or other) tag is stored. */
export const UNTAGGED = '';

/** How an untagged value is shown to people: never dropped, always labelled. */
export const UNTAGGED_LABEL = '(untagged)';

/** One stored daily fact: a team's spend on one facet value on one day. */
export interface CostFact {
  readonly date: PlainDate;
  readonly facet: Facet;
  readonly team: string;
  readonly value: string;
  readonly currency: string;
  readonly costs: Readonly<Record<CostMetric, Amount>>;
  /** Cost Explorer marks recent days as estimated until it finalises them. */
  readonly estimated: boolean;
}

/** An amount attributed to a key (a service, a team, a day …). */
export interface KeyedAmount {
  readonly key: string;
  readonly amount: Amount;
}
