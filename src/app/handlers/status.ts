/** `status`: how fresh the data is, how each sync went, and what Cost Explorer has cost. */
import { formatAmount, formatCents, sumAmounts } from '../../core/money.js';
import type { Reply } from '../../core/reply.js';
import { addDays, startOfMonth, todayIn } from '../../core/period.js';
import { formatInstant, freshnessOf, freshnessText, type HandlerDeps } from '../report-context.js';
import { ALL_TEAMS, maySee, type TeamAccess } from '../team-access.js';

/** Price of one Cost Explorer API request, in cents. */
export const COST_EXPLORER_REQUEST_CENTS = 1n;

/** What the bot watches: anomalies found lately and still open, how many teams have a budget, open rightsizing. */
async function watchFields(deps: HandlerDeps, today: string, access: TeamAccess): Promise<{ label: string; value: string }[]> {
  const fields: { label: string; value: string }[] = [];
  if (deps.anomalies) {
    const recent = await deps.anomalies.listOverlapping({ start: addDays(today, -30), end: addDays(today, 1) });
    const open = recent.filter((record) => record.status === 'open' || record.status === 'acknowledged');
    const latest = recent.map((record) => record.updatedAt.getTime()).sort((a, b) => b - a)[0];
    fields.push({
      label: 'Anomalies (last 30 days)',
      value: `${recent.length} found, ${open.length} open or acknowledged${latest === undefined ? '' : `; last change ${formatInstant(new Date(latest), deps.settings.timeZone)}`} (\`anomalies\` lists them)`,
    });
  }
  if (deps.budgets) {
    const budgets = await deps.budgets.list();
    fields.push({ label: 'Budgets', value: budgets.length === 0 ? 'none set (`budget set TEAM AMOUNT`)' : `${budgets.length} team${budgets.length === 1 ? '' : 's'} (\`budget\` shows where each stands)` });
  }
  if (deps.rightsizing) {
    const [all, lastSyncedAt] = await Promise.all([deps.rightsizing.store.list({ statuses: ['pending'] }), deps.rightsizing.store.lastSyncedAt()]);
    // Only the teams this conversation may see (FINOPS_CHANNEL_TEAMS).
    const open = all.filter((record) => maySee(access, record.team));
    const saving = open.length === 0 ? '' : `, ${formatAmount(sumAmounts(open.map((record) => record.monthlySavings)), open[0]!.currency)} a month`;
    const read = lastSyncedAt ? `read ${formatInstant(lastSyncedAt, deps.settings.timeZone)}` : 'not read yet';
    fields.push({ label: 'Rightsizing', value: `${open.length} open${saving}; ${read}; approvals execute: ${deps.rightsizing.desk.settings.execute} (\`rightsizing\` lists them)` });
  }
  return fields;
}

/** Answers `status`; `aiModel` is the configured model id (undefined: deterministic explanations); `access` limits team figures. */
export async function handleStatus(deps: HandlerDeps, aiModel?: string, access: TeamAccess = ALL_TEAMS): Promise<Reply> {
  const now = deps.clock.now();
  const states = await deps.store.getSyncStates();
  const freshness = freshnessOf(states, deps.settings.facets);
  const today = todayIn('UTC', now);
  const [day, month] = await Promise.all([
    deps.store.countApiRequests(new Date(`${today}T00:00:00Z`)),
    deps.store.countApiRequests(new Date(`${startOfMonth(today)}T00:00:00Z`)),
  ]);
  const tz = deps.settings.timeZone;
  return {
    kind: 'answer',
    title: 'Status',
    blocks: [
      {
        type: 'fields',
        fields: [
          { label: 'Data', value: freshnessText(deps, freshness) },
          { label: 'History from', value: freshness.dataFrom ?? 'not known yet' },
          { label: 'Cost Explorer requests today (UTC)', value: `${day.requests} (${formatCents(BigInt(day.requests) * COST_EXPLORER_REQUEST_CENTS, 'USD')})` },
          { label: 'This month', value: `${month.requests} (${formatCents(BigInt(month.requests) * COST_EXPLORER_REQUEST_CENTS, 'USD')})` },
          { label: 'AI answers', value: aiModel ? `Amazon Bedrock \`${aiModel}\` (\`ai-usage\` shows what they cost)` : 'deterministic explanations from the data (BEDROCK_MODEL_ID is not set)' },
          ...(await watchFields(deps, today, access)),
        ],
      },
      {
        type: 'table',
        columns: [
          { title: 'Facet', align: 'left' },
          { title: 'Data through', align: 'left' },
          { title: 'Last sync', align: 'left' },
          { title: 'Problem', align: 'left' },
        ],
        rows: deps.settings.facets.map((facet) => {
          const state = states.find((candidate) => candidate.facet === facet);
          const through = state?.syncedUntil ? addDays(state.syncedUntil, -1) : 'never synced';
          return [facet, through, state?.lastSuccessAt ? formatInstant(state.lastSuccessAt, tz) : '—', state?.lastError ?? ''];
        }),
      },
    ],
  };
}
