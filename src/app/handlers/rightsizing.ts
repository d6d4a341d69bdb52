/**
 * `rightsizing [for TEAM]`, `approvers …` and `audit [for TEAM]`: the recommendations with
 * their buttons, who may approve them (changed by admins only, each change audited), and
 * the audit log's latest entries. Team access is enforced as for every report.
 */
import { FinOpsError, isFinOpsError } from '../../core/errors.js';
import { mention, type Reply, type ReplyBlock } from '../../core/reply.js';
import type { Approver } from '../../ports.js';
import type { Command } from '../command.js';
import type { RequestContext } from '../engine.js';
import { EVERY_TEAM } from '../rightsizing/approver-policy.js';
import { auditTable, rightsizingList } from '../rightsizing/present.js';
import { type HandlerDeps, labelOf, resolveTeam, type RightsizingServices } from '../report-context.js';
import { maySee, permittedTeam, seesEveryTeam, type TeamAccess } from '../team-access.js';

/** What the rightsizing commands need. */
export interface RightsizingDeps extends HandlerDeps {
  readonly rightsizing: RightsizingServices;
}

/** Audit entries `audit` shows. */
const AUDIT_SHOWN = 20;

/**
 * The recommendations the conversation may see (one team's, or every visible team's), with
 * buttons where the channel has them. Expired ones are expired first, so none is offered late.
 */
export async function handleRightsizing(deps: RightsizingDeps, command: { team?: string | undefined }, access: TeamAccess, context: Pick<RequestContext, 'channel'>): Promise<Reply> {
  const typed = permittedTeam(access, command.team);
  const team = typed === undefined ? undefined : await resolveTeam(deps, typed);
  return rightsizingView(deps, team, access, context.channel !== 'console');
}

/**
 * The list as `rightsizing` shows it, for a team or every team the conversation sees (also
 * redrawn after a click). `readOnly` (the AI's tool) reads what is stored and changes nothing:
 * no first read from the source, no expiry.
 */
export async function rightsizingView(deps: RightsizingDeps, team: string | undefined, access: TeamAccess, buttons: boolean, options: { readOnly?: boolean } = {}): Promise<Reply> {
  const { store, desk } = deps.rightsizing;
  // Never read yet (a new install): read now rather than show an empty list until the next sync.
  let unreadable: string | undefined;
  let lastSyncedAt = await store.lastSyncedAt();
  if (!options.readOnly && lastSyncedAt === undefined) {
    try {
      await desk.sync({ force: true });
      lastSyncedAt = await store.lastSyncedAt();
    } catch (error) {
      if (!isFinOpsError(error)) throw error;
      unreadable = error.message;
    }
  }
  if (!options.readOnly) await desk.expireDue();
  const records = await store.list({ team });
  const since = deps.clock.now().getTime() - 14 * 86_400_000;
  // Open ones, approved ones still waiting to be made, and what was decided in the last two weeks.
  const visible = records.filter(
    (record) => maySee(access, record.team) && (record.status === 'pending' || record.status === 'approved' || (record.decidedAt ?? record.createdAt).getTime() >= since),
  );
  const reply = rightsizingList(visible, {
    team,
    lastSyncedAt,
    sourceKind: deps.settings.sourceKind,
    execute: desk.settings.execute,
    twoApproverFrom: desk.settings.twoApproverFrom,
    expireDays: desk.settings.expireDays,
    buttons,
  });
  return unreadable === undefined ? reply : { ...reply, blocks: [{ type: 'text', text: `I could not read the recommendations: ${unreadable}` }, ...reply.blocks] };
}

/** `approvers`, `approvers for TEAM`, `approvers add|rm TEAM @person …` (admins only). */
export async function handleApprovers(deps: RightsizingDeps, command: Extract<Command, { name: 'approvers' }>, access: TeamAccess, context: Pick<RequestContext, 'channel' | 'userId'>): Promise<Reply> {
  const { policy, store } = deps.rightsizing;
  if (command.action === 'show') {
    const typed = command.team === undefined ? undefined : command.team === EVERY_TEAM ? EVERY_TEAM : permittedTeam(access, command.team);
    const stored = await store.listApprovers();
    const teams = typed !== undefined ? [typed === EVERY_TEAM ? EVERY_TEAM : await resolveTeam(deps, typed)] : await teamsWithApprovers(deps, stored.map((entry) => entry.team), access);
    const rows = await Promise.all(
      teams.map(async (team) => {
        const list = await policy.approversOf(team);
        const people = [...list.configured.map((person) => `${mention(person.id)} (config)`), ...list.stored.map((person) => mention(person.id))];
        return [team === EVERY_TEAM ? 'every team (*)' : labelOf(team), people.length === 0 ? 'nobody yet' : people.join(', ')];
      }),
    );
    const blocks: ReplyBlock[] =
      rows.length === 0
        ? [{ type: 'text', text: 'No approvers yet: nobody can approve a rightsizing recommendation. An admin can add some with `approvers add TEAM @person`.' }]
        : [{ type: 'table', columns: [{ title: 'Team', align: 'left' }, { title: 'Approvers', align: 'left' }], rows }];
    blocks.push({ type: 'context', text: 'every team’s approvers (*) may approve for each team · “config” ones come from FINOPS_APPROVERS and are changed there · a group counts all its members' });
    return { kind: 'answer', title: 'Rightsizing approvers', blocks };
  }
  if (!(await policy.isAdmin(context.userId, context.channel))) {
    throw new FinOpsError('command_invalid', 'Only admins (FINOPS_ADMINS) can change approvers.');
  }
  const team = command.team === EVERY_TEAM ? EVERY_TEAM : await resolveTeam(deps, permittedTeam(access, command.team) ?? command.team);
  const key = (person: Approver) => `${person.kind}:${person.id}`;
  const named = new Set(command.people.map(key));
  const edit = (current: readonly Approver[]) =>
    command.action === 'add' ? [...current, ...command.people.filter((person) => !current.some((known) => key(known) === key(person)))] : current.filter((person) => !named.has(key(person)));
  const { before, after } = await store.editApprovers(team, edit, { setBy: context.userId ?? 'console', setAt: deps.clock.now() });
  const changed = before.length !== after.length;
  const who = command.people.map((person) => mention(person.id)).join(', ');
  const teamLabel = team === EVERY_TEAM ? 'every team' : labelOf(team);
  const text = !changed
    ? command.action === 'add'
      ? `${who} already ${command.people.length === 1 ? 'approves' : 'approve'} for *${teamLabel}*; nothing changed.`
      : `${who} ${command.people.length === 1 ? 'is' : 'are'} not among the approvers of *${teamLabel}* added from chat; nothing changed.`
    : command.action === 'add'
      ? `${who} may now approve rightsizing for *${teamLabel}*.`
      : `${who} may no longer approve rightsizing for *${teamLabel}* (unless configured in FINOPS_APPROVERS).`;
  return { kind: 'answer', title: 'Rightsizing approvers', blocks: [{ type: 'text', text }, { type: 'context', text: changed ? 'recorded in the audit log (`audit`)' : 'the audit log is unchanged' }] };
}

/** `audit [for TEAM]`: the latest entries the conversation may see, newest first. */
export async function handleAudit(deps: RightsizingDeps, command: { team?: string | undefined }, access: TeamAccess): Promise<Reply> {
  const typed = permittedTeam(access, command.team);
  const team = typed === undefined ? undefined : await resolveTeam(deps, typed);
  const entries = (await deps.rightsizing.store.audit({ team, limit: seesEveryTeam(access) ? AUDIT_SHOWN : AUDIT_SHOWN * 5 })).filter((entry) => maySee(access, entry.team) || (entry.team === EVERY_TEAM && seesEveryTeam(access))).slice(0, AUDIT_SHOWN);
  const blocks: ReplyBlock[] = entries.length === 0 ? [{ type: 'text', text: 'Nothing in the audit log yet.' }] : [auditTable(entries, team === undefined)];
  blocks.push({ type: 'context', text: `the latest ${AUDIT_SHOWN} entries, newest first · append-only: entries are never changed or deleted` });
  return { kind: 'answer', title: team === undefined ? 'Rightsizing audit log' : `Rightsizing audit log · ${labelOf(team)}`, blocks };
}

async function teamsWithApprovers(deps: RightsizingDeps, stored: readonly string[], access: TeamAccess): Promise<string[]> {
  const known = await deps.store.listTeams();
  const teams = new Set<string>([...stored, ...known.filter((team) => team !== '')]);
  const ordered = [...teams].filter((team) => team === EVERY_TEAM || maySee(access, team)).sort((a, b) => (a === EVERY_TEAM ? -1 : b === EVERY_TEAM ? 1 : a.localeCompare(b)));
  return seesEveryTeam(access) ? ordered : ordered.filter((team) => team !== EVERY_TEAM);
}
