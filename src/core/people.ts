/**
 * People and groups named by id, as approvers and admins are: a Slack user (`U…`, `W…`) or
 * user group (`S…`) — upper case with at least one digit, so a plain name such as `sebastian`
 * is never taken for an id — or a Microsoft Entra object id (a GUID) for Teams.
 */

/** A person, or a group whose members all count. */
export interface PersonRef {
  readonly kind: 'user' | 'group';
  readonly id: string;
}

const SLACK_ID = /^[UWS](?=[A-Z0-9]*\d)[A-Z0-9]{6,}$/;
const ENTRA_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The person or group an id names (Slack `S…` ids are user groups); undefined when it is not an id. */
export function personRef(id: string): PersonRef | undefined {
  if (SLACK_ID.test(id)) return { kind: id.startsWith('S') ? 'group' : 'user', id };
  if (ENTRA_ID.test(id)) return { kind: 'user', id: id.toLowerCase() };
  return undefined;
}
