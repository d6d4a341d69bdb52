/**
 * The life of a rightsizing recommendation, as a pure state machine:
 *
 *   pending → approved | rejected | expired;  approved → applied | failed
 *
 * A decision is a function of the state it is taken on, so the store can apply it under a
 * row lock and a double click, two approvers racing or a retried request all end in exactly
 * one decision: the repeat finds the state already moved and changes nothing.
 */

/** Where a recommendation is in its life. */
export type RightsizingStatus = 'pending' | 'approved' | 'rejected' | 'expired' | 'applied' | 'failed';

/**
 * The execution step an executor reports just before it asks EC2 to stop a running instance:
 * kept at once, so a change cut off after it is known to have stopped the instance.
 */
export const STOPPING_STEP = 'stopping';

/** Statuses a recommendation never leaves. */
export const FINAL_STATUSES: readonly RightsizingStatus[] = ['rejected', 'expired', 'applied', 'failed'];

/** The moves the state machine allows. */
const TRANSITIONS: Readonly<Record<RightsizingStatus, readonly RightsizingStatus[]>> = {
  pending: ['approved', 'rejected', 'expired'],
  approved: ['applied', 'failed'],
  rejected: [],
  expired: [],
  applied: [],
  failed: [],
};

/** True when the state machine allows going from `from` to `to`. */
export function canMove(from: RightsizingStatus, to: RightsizingStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** What a decision needs to know of a recommendation. */
export interface DecisionState {
  readonly status: RightsizingStatus;
  readonly approvals: readonly { readonly userId: string; readonly at: Date }[];
  readonly approvalsNeeded: number;
  readonly decidedBy: string | undefined;
  readonly decidedAt: Date | undefined;
  readonly reason: string | undefined;
}

/** Something that may move a recommendation. */
export type DecisionEvent =
  | { readonly kind: 'approve'; readonly userId: string; readonly at: Date }
  | { readonly kind: 'reject'; readonly userId: string; readonly at: Date; readonly reason: string }
  | { readonly kind: 'expire'; readonly at: Date; readonly reason: string }
  | { readonly kind: 'applied'; readonly at: Date }
  | { readonly kind: 'failed'; readonly at: Date; readonly reason: string };

/** Why an event changed nothing. */
export type Unchanged =
  /** The same person approved it already (a double click, a retry). */
  | { readonly kind: 'already-approved-by-you'; readonly approvals: number; readonly needed: number }
  /** It was decided before this event (by someone else, or it expired). */
  | { readonly kind: 'already-decided'; readonly status: RightsizingStatus; readonly by: string | undefined; readonly at: Date | undefined }
  /** The event does not apply to its status (applying a pending one). */
  | { readonly kind: 'not-allowed'; readonly status: RightsizingStatus };

/** The outcome of an event: the new state, or why nothing changed. */
export type DecisionOutcome<S extends DecisionState> =
  | { readonly changed: true; readonly next: S; readonly approvalOnly: boolean }
  | { readonly changed: false; readonly unchanged: Unchanged };

/**
 * Applies `event` to `state`. An approval is counted once per person; the recommendation is
 * approved when it has the approvals it needs (two above the configured saving). A rejection
 * by any approver closes it, with its reason. `approvalOnly` is true when an approval was
 * recorded but more are needed (the status stays pending).
 */
export function applyDecision<S extends DecisionState>(state: S, event: DecisionEvent): DecisionOutcome<S> {
  const decided = (): DecisionOutcome<S> => ({ changed: false, unchanged: { kind: 'already-decided', status: state.status, by: state.decidedBy, at: state.decidedAt } });
  switch (event.kind) {
    case 'approve': {
      if (state.status !== 'pending') return decided();
      const repeated = state.approvals.some((approval) => approval.userId === event.userId);
      // A repeat changes nothing, unless fewer approvals are needed now (a sync lowered the saving).
      if (repeated && state.approvals.length < state.approvalsNeeded) {
        return { changed: false, unchanged: { kind: 'already-approved-by-you', approvals: state.approvals.length, needed: state.approvalsNeeded } };
      }
      const approvals = repeated ? state.approvals : [...state.approvals, { userId: event.userId, at: event.at }];
      if (approvals.length < state.approvalsNeeded) return { changed: true, approvalOnly: true, next: { ...state, approvals } };
      return { changed: true, approvalOnly: false, next: { ...state, approvals, status: 'approved', decidedBy: event.userId, decidedAt: event.at } };
    }
    case 'reject':
      if (state.status !== 'pending') return decided();
      return { changed: true, approvalOnly: false, next: { ...state, status: 'rejected', decidedBy: event.userId, decidedAt: event.at, reason: event.reason } };
    case 'expire':
      if (state.status !== 'pending') return decided();
      return { changed: true, approvalOnly: false, next: { ...state, status: 'expired', decidedBy: 'system', decidedAt: event.at, reason: event.reason } };
    case 'applied':
    case 'failed': {
      const to = event.kind;
      if (!canMove(state.status, to)) return state.status === 'pending' ? { changed: false, unchanged: { kind: 'not-allowed', status: state.status } } : decided();
      return { changed: true, approvalOnly: false, next: { ...state, status: to, ...(event.kind === 'failed' ? { reason: event.reason } : {}) } };
    }
  }
}

/** Approvals a recommendation saving `monthlySavings` needs: two at or above `twoApproverFrom`, else one. */
export function approvalsNeededFor(monthlySavings: bigint, twoApproverFrom: bigint | undefined): number {
  return twoApproverFrom !== undefined && monthlySavings >= twoApproverFrom ? 2 : 1;
}
