/**
 * Who may approve a team's rightsizing recommendations, and who may change that. A team's
 * approvers are those configured (FINOPS_APPROVERS) plus those added from chat (stored),
 * for the team and for every team (`*`). A group counts all its members, read from the
 * platform's directory and remembered for a minute. Checked in code on every click.
 */
import { FinOpsError } from '../../core/errors.js';
import type { Approver, ApproverDirectory, Clock, RightsizingStore } from '../../ports.js';

/** The key of approvers (and of configured rules) that apply to every team. */
export const EVERY_TEAM = '*';

/** How long a group's members are remembered. */
const GROUP_TTL_MS = 60_000;

/** Who configuration names: admins, and approvers per team. */
export interface ConfiguredPeople {
  readonly admins: readonly Approver[];
  readonly approvers: ReadonlyMap<string, readonly Approver[]>;
}

/** A team's approvers, by where they come from. */
export interface TeamApproverList {
  readonly configured: readonly Approver[];
  readonly stored: readonly Approver[];
}

/** Answers "may this person approve for this team?" and "may this person change approvers?". */
export class ApproverPolicy {
  private readonly groups = new Map<string, { members: readonly string[]; at: number }>();

  constructor(
    private readonly deps: {
      readonly store: Pick<RightsizingStore, 'listApprovers'>;
      readonly configured: ConfiguredPeople;
      readonly directory?: ApproverDirectory | undefined;
      readonly clock: Clock;
    },
  ) {}

  /** A team's approvers: configured and stored, the team's own and every team's. */
  async approversOf(team: string): Promise<TeamApproverList> {
    const stored = await this.deps.store.listApprovers();
    const pick = (key: string) => stored.find((entry) => entry.team.toLowerCase() === key.toLowerCase())?.approvers ?? [];
    const configured = [...this.configuredFor(team), ...(this.deps.configured.approvers.get(EVERY_TEAM) ?? [])];
    return { configured: unique(configured), stored: unique([...pick(team), ...(team === EVERY_TEAM ? [] : pick(EVERY_TEAM))]) };
  }

  /** True when `userId` may approve or reject `team`'s recommendations. */
  async mayApprove(team: string, userId: string): Promise<boolean> {
    const list = await this.approversOf(team);
    return this.includes([...list.configured, ...list.stored], userId);
  }

  /** True when `userId` may change approvers from chat (the console is the operator's own terminal). */
  async isAdmin(userId: string | undefined, channel: 'console' | 'slack' | 'teams'): Promise<boolean> {
    if (channel === 'console') return true;
    return userId !== undefined && this.includes(this.deps.configured.admins, userId);
  }

  /** Whether anyone may approve for `team` at all. */
  async hasApprovers(team: string): Promise<boolean> {
    const list = await this.approversOf(team);
    return list.configured.length + list.stored.length > 0;
  }

  private configuredFor(team: string): readonly Approver[] {
    for (const [key, people] of this.deps.configured.approvers) if (key !== EVERY_TEAM && key.toLowerCase() === team.toLowerCase()) return people;
    return [];
  }

  private async includes(people: readonly Approver[], userId: string): Promise<boolean> {
    if (people.some((person) => person.kind === 'user' && person.id === userId)) return true;
    for (const group of people.filter((person) => person.kind === 'group')) {
      if ((await this.membersOf(group.id)).includes(userId)) return true;
    }
    return false;
  }

  private async membersOf(groupId: string): Promise<readonly string[]> {
    const now = this.deps.clock.now().getTime();
    const known = this.groups.get(groupId);
    if (known && now - known.at < GROUP_TTL_MS) return known.members;
    if (!this.deps.directory) throw new FinOpsError('command_invalid', 'Approver groups cannot be read here, so only approvers named one by one can decide.');
    const members = await this.deps.directory.membersOf(groupId);
    this.groups.set(groupId, { members, at: now });
    return members;
  }
}

function unique(people: readonly Approver[]): Approver[] {
  const seen = new Set<string>();
  return people.filter((person) => !seen.has(`${person.kind}:${person.id}`) && seen.add(`${person.kind}:${person.id}`));
}
