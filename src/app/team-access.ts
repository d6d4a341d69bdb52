/**
 * Which teams' spend a conversation may see. Operators can confine a channel to some teams
 * (FINOPS_CHANNEL_TEAMS); commands and the AI's tools then answer only about those teams,
 * whatever is typed or generated. The check is made in code on every request, never left to
 * a prompt.
 */
import { FinOpsError } from '../core/errors.js';
import type { RequestContext } from './engine.js';
import type { EngineSettings } from './report-context.js';

/** What one conversation may see. */
export type TeamAccess = { readonly kind: 'all' } | { readonly kind: 'teams'; readonly teams: readonly string[] };

/** Every team: the default when no confinement is configured. */
export const ALL_TEAMS: TeamAccess = { kind: 'all' };

/** Key of the rule that applies to conversations not listed (DMs, the console …). */
export const OTHER_CONVERSATIONS = '*';

/**
 * The access of the conversation a request comes from: its own rule, else the rule for
 * other conversations, else every team.
 */
export function accessFor(deps: { readonly settings: Pick<EngineSettings, 'channelTeams'> }, context: Pick<RequestContext, 'conversationId'>): TeamAccess {
  const rules = deps.settings.channelTeams;
  if (!rules || rules.size === 0) return ALL_TEAMS;
  const teams = (context.conversationId !== undefined ? rules.get(context.conversationId) : undefined) ?? rules.get(OTHER_CONVERSATIONS);
  return teams === undefined ? ALL_TEAMS : { kind: 'teams', teams };
}

/**
 * The team a request may ask about: the typed one when the conversation may see it (the
 * organisation when nothing is typed and every team is visible), the only visible team when
 * nothing is typed; otherwise a sentence that names only teams the conversation may see.
 */
export function permittedTeam(access: TeamAccess, typed: string | undefined): string | undefined {
  if (access.kind === 'all') return typed;
  const list = describe(access.teams);
  if (access.teams.length === 0) throw new FinOpsError('command_invalid', 'This conversation cannot see any team’s spend.');
  if (typed === undefined) {
    if (access.teams.length === 1) return access.teams[0];
    throw new FinOpsError('command_invalid', `This conversation can see ${list}: say which with \`for TEAM\`.`);
  }
  const match = access.teams.find((team) => team.toLowerCase() === typed.toLowerCase());
  if (match === undefined) throw new FinOpsError('command_invalid', `This conversation can see ${list} only.`);
  return match;
}

/** True when the conversation may see `team`'s spend ('' = untagged). */
export function maySee(access: TeamAccess, team: string): boolean {
  return access.kind === 'all' || access.teams.some((visible) => visible.toLowerCase() === team.toLowerCase());
}

/** True when the conversation may see the whole organisation (org-wide views such as tag coverage). */
export function seesEveryTeam(access: TeamAccess): boolean {
  return access.kind === 'all';
}

function describe(teams: readonly string[]): string {
  return teams.length === 0 ? 'no team’s spend' : teams.map((team) => `\`${team === '' ? 'untagged' : team}\``).join(', ');
}
