/**
 * The life of a rightsizing recommendation as the pure state machine decides it: who may
 * approve how often, what a rejection keeps, what expiry and execution may move, and how many
 * approvals a saving needs.
 */
import { describe, expect, it } from 'vitest';
import { parseAmount } from '../../src/core/money.js';
import { applyDecision, approvalsNeededFor, canMove, type DecisionEvent, type DecisionState, FINAL_STATUSES, type RightsizingStatus } from '../../src/core/rightsizing.js';

const T0 = new Date('2026-11-23T09:00:00Z');
const T1 = new Date('2026-11-23T09:05:00Z');
const T2 = new Date('2026-11-23T09:10:00Z');
const ALICE = 'U0ALICE01';
const BOB = 'U0BOB0001';
const ALL: readonly RightsizingStatus[] = ['pending', 'approved', 'rejected', 'expired', 'applied', 'failed'];

const pending = (approvalsNeeded = 1, approvals: DecisionState['approvals'] = []): DecisionState => ({
  status: 'pending',
  approvals,
  approvalsNeeded,
  decidedBy: undefined,
  decidedAt: undefined,
  reason: undefined,
});
const approve = (userId: string, at = T1): DecisionEvent => ({ kind: 'approve', userId, at });

/** Applies `event`, expecting a change; returns the new state. */
function moved(state: DecisionState, event: DecisionEvent): DecisionState & { approvalOnly: boolean } {
  const outcome = applyDecision(state, event);
  if (!outcome.changed) throw new Error(`expected ${event.kind} to change ${state.status}, got ${JSON.stringify(outcome.unchanged)}`);
  return { ...outcome.next, approvalOnly: outcome.approvalOnly };
}

/** Applies `event`, expecting no change; returns why. */
function unchanged(state: DecisionState, event: DecisionEvent) {
  const outcome = applyDecision(state, event);
  if (outcome.changed) throw new Error(`expected ${event.kind} on ${state.status} to change nothing, got ${outcome.next.status}`);
  return outcome.unchanged;
}

describe('approving', () => {
  it('approves at once with the one approval a recommendation needs, naming who and when', () => {
    const next = moved(pending(1), approve(ALICE));
    expect(next).toMatchObject({ status: 'approved', decidedBy: ALICE, decidedAt: T1, approvalOnly: false });
    expect(next.approvals).toEqual([{ userId: ALICE, at: T1 }]);
  });

  it('needs two different people when two approvals are needed', () => {
    const first = moved(pending(2), approve(ALICE, T1));
    expect(first).toMatchObject({ status: 'pending', approvalOnly: true, decidedBy: undefined, decidedAt: undefined });
    expect(first.approvals).toEqual([{ userId: ALICE, at: T1 }]);

    const second = moved(first, approve(BOB, T2));
    expect(second).toMatchObject({ status: 'approved', decidedBy: BOB, decidedAt: T2, approvalOnly: false });
    expect(second.approvals).toEqual([
      { userId: ALICE, at: T1 },
      { userId: BOB, at: T2 },
    ]);
  });

  it('changes nothing when the same person approves twice (a double click, a retry)', () => {
    const first = moved(pending(2), approve(ALICE, T1));
    expect(unchanged(first, approve(ALICE, T2))).toEqual({ kind: 'already-approved-by-you', approvals: 1, needed: 2 });
  });

  it('completes on a repeated approval when the approvals needed dropped since the first (a sync lowered the saving)', () => {
    const first = moved(pending(2), approve(ALICE, T1));
    const lowered = { ...first, approvalsNeeded: 1 };
    const next = moved(lowered, approve(ALICE, T2));
    expect(next).toMatchObject({ status: 'approved', decidedBy: ALICE, decidedAt: T2, approvalOnly: false });
    // Counted once: the first approval stays, it is not added again.
    expect(next.approvals).toEqual([{ userId: ALICE, at: T1 }]);
  });

  it('leaves an approved one approved when a second person clicks late, saying who decided', () => {
    const approved = moved(pending(1), approve(ALICE, T1));
    expect(unchanged(approved, approve(BOB, T2))).toEqual({ kind: 'already-decided', status: 'approved', by: ALICE, at: T1 });
  });
});

describe('rejecting', () => {
  it('closes a pending one with its reason and who rejected it, even after one of two approvals', () => {
    const halfway = moved(pending(2), approve(ALICE, T1));
    const rejected = moved(halfway, { kind: 'reject', userId: BOB, at: T2, reason: 'peak season: keep the headroom' });
    expect(rejected).toMatchObject({ status: 'rejected', decidedBy: BOB, decidedAt: T2, reason: 'peak season: keep the headroom', approvalOnly: false });
  });

  it('cannot reject what was decided, and names the decision', () => {
    const approved = moved(pending(1), approve(ALICE, T1));
    expect(unchanged(approved, { kind: 'reject', userId: BOB, at: T2, reason: 'too late' })).toEqual({ kind: 'already-decided', status: 'approved', by: ALICE, at: T1 });
    const rejected = moved(pending(1), { kind: 'reject', userId: BOB, at: T1, reason: 'no' });
    expect(unchanged(rejected, approve(ALICE, T2))).toEqual({ kind: 'already-decided', status: 'rejected', by: BOB, at: T1 });
  });
});

describe('expiring', () => {
  it('expires only a pending one, decided by the system with the reason', () => {
    const expired = moved(pending(2, [{ userId: ALICE, at: T0 }]), { kind: 'expire', at: T2, reason: 'no decision within 14 days' });
    expect(expired).toMatchObject({ status: 'expired', decidedBy: 'system', decidedAt: T2, reason: 'no decision within 14 days' });

    const approved = moved(pending(1), approve(ALICE, T1));
    expect(unchanged(approved, { kind: 'expire', at: T2, reason: 'late' })).toEqual({ kind: 'already-decided', status: 'approved', by: ALICE, at: T1 });
    expect(unchanged(expired, { kind: 'expire', at: T2, reason: 'again' })).toEqual({ kind: 'already-decided', status: 'expired', by: 'system', at: T2 });
    // An expired one cannot be approved afterwards either.
    expect(unchanged(expired, approve(BOB, T2))).toMatchObject({ kind: 'already-decided', status: 'expired', by: 'system' });
  });
});

describe('carrying a change out', () => {
  const approved = moved(pending(1), approve(ALICE, T1));

  it('marks an approved one applied, keeping who approved it', () => {
    const applied = moved(approved, { kind: 'applied', at: T2 });
    expect(applied).toMatchObject({ status: 'applied', decidedBy: ALICE, decidedAt: T1 });
    expect(applied.approvals).toEqual([{ userId: ALICE, at: T1 }]);
  });

  it('marks an approved one failed with the step that failed as its reason', () => {
    const failed = moved(approved, { kind: 'failed', at: T2, reason: 'modify: EC2 refused ModifyInstanceAttribute (InvalidParameterCombination).' });
    expect(failed).toMatchObject({ status: 'failed', decidedBy: ALICE, reason: 'modify: EC2 refused ModifyInstanceAttribute (InvalidParameterCombination).' });
  });

  it('refuses to apply or fail a pending one (not allowed), and a finished one (already decided)', () => {
    expect(unchanged(pending(1), { kind: 'applied', at: T2 })).toEqual({ kind: 'not-allowed', status: 'pending' });
    expect(unchanged(pending(1), { kind: 'failed', at: T2, reason: 'x' })).toEqual({ kind: 'not-allowed', status: 'pending' });
    const applied = moved(approved, { kind: 'applied', at: T2 });
    expect(unchanged(applied, { kind: 'applied', at: T2 })).toEqual({ kind: 'already-decided', status: 'applied', by: ALICE, at: T1 });
    expect(unchanged(applied, { kind: 'failed', at: T2, reason: 'x' })).toEqual({ kind: 'already-decided', status: 'applied', by: ALICE, at: T1 });
    const rejected = moved(pending(1), { kind: 'reject', userId: BOB, at: T1, reason: 'no' });
    expect(unchanged(rejected, { kind: 'applied', at: T2 })).toEqual({ kind: 'already-decided', status: 'rejected', by: BOB, at: T1 });
  });

  it('keeps the rest of the record as it was (the store passes whole records through)', () => {
    const record = { ...pending(1), id: 7, instanceId: 'i-0abc' };
    const outcome = applyDecision(record, approve(ALICE));
    expect(outcome.changed && outcome.next).toMatchObject({ id: 7, instanceId: 'i-0abc', status: 'approved' });
  });
});

describe('the moves allowed', () => {
  it('goes pending → approved | rejected | expired, approved → applied | failed, and nowhere from a final status', () => {
    const allowed = ALL.flatMap((from) => ALL.filter((to) => canMove(from, to)).map((to) => `${from}→${to}`));
    expect(allowed.sort()).toEqual(['approved→applied', 'approved→failed', 'pending→approved', 'pending→expired', 'pending→rejected'].sort());
    for (const status of FINAL_STATUSES) expect(ALL.some((to) => canMove(status, to))).toBe(false);
    expect([...FINAL_STATUSES].sort()).toEqual(['applied', 'expired', 'failed', 'rejected']);
  });
});

describe('approvalsNeededFor', () => {
  const bar = parseAmount('1000');

  it('needs two at the bar and above it, one below it', () => {
    expect(approvalsNeededFor(parseAmount('1000'), bar)).toBe(2);
    expect(approvalsNeededFor(parseAmount('1121.28'), bar)).toBe(2);
    expect(approvalsNeededFor(parseAmount('999.9999999999'), bar)).toBe(1);
    expect(approvalsNeededFor(parseAmount('60.74'), bar)).toBe(1);
  });

  it('needs one whatever the saving when no bar is configured', () => {
    expect(approvalsNeededFor(parseAmount('1000000'), undefined)).toBe(1);
    expect(approvalsNeededFor(0n, undefined)).toBe(1);
  });
});
