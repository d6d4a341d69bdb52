/**
 * The rightsizing store: a sync adds, updates and withdraws recommendations by key (version
 * growing only when something shown changed, decided ones left alone, expired keys offered
 * again as new rows); decisions are taken one at a time on the locked row, with their audit
 * entries; the audit log cannot be rewritten; an execution is claimed once across instances;
 * approvers are replaced with an audit entry.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, selectRows, type Database } from '../../../src/adapters/db/database.js';
import { PgRightsizingStore, WITHDRAWN_REASON } from '../../../src/adapters/db/rightsizing-store.js';
import { parseAmount } from '../../../src/core/money.js';
import { applyDecision, approvalsNeededFor, type DecisionEvent } from '../../../src/core/rightsizing.js';
import type { NewAuditEntry, RightsizingCandidate, RightsizingStore } from '../../../src/ports.js';
import { emptyAllTables, openTestDatabase, testDatabaseKind, type TestDatabase } from '../../support/test-database.js';

const AT = new Date('2026-11-21T06:00:00Z');
const LATER = new Date('2026-11-22T06:00:00Z');
const LATEST = new Date('2026-11-23T06:00:00Z');
const minutes = (from: Date, count: number) => new Date(from.getTime() + count * 60_000);
/** Savings from here need two approvals. */
const TWO_APPROVERS_FROM = parseAmount('500');
const STALE_MS = 15 * 60_000;

const candidate = (key: string, extra: Partial<RightsizingCandidate> = {}): RightsizingCandidate => ({
  key,
  accountId: '123456789012',
  region: 'eu-west-1',
  instanceId: `i-0${key}`,
  instanceName: `web-${key}`,
  team: 'payments',
  action: 'modify',
  currentType: 'm5.2xlarge',
  targetType: 'm5.xlarge',
  cpuMaxPercent: 12.5,
  memoryMaxPercent: undefined,
  currentMonthlyCost: parseAmount('280.3200000001'),
  monthlySavings: parseAmount('140.16'),
  currency: 'USD',
  lookbackDays: 14,
  ...extra,
});

const options = (at: Date) => ({ at, approvalsNeeded: (c: RightsizingCandidate) => approvalsNeededFor(c.monthlySavings, TWO_APPROVERS_FROM) });

/** Runs the core state machine inside the store's transition, auditing what changed. */
function decide(store: RightsizingStore, id: number, event: DecisionEvent) {
  return store.transition(id, (current) => {
    const outcome = applyDecision(current, event);
    if (!outcome.changed) return undefined;
    const entry: NewAuditEntry = {
      at: event.at,
      actor: 'userId' in event ? event.userId : 'system',
      team: current.team,
      recommendationId: current.id,
      action: event.kind,
      before: { status: current.status, approvals: current.approvals.map((approval) => approval.userId) },
      after: { status: outcome.next.status, approvals: outcome.next.approvals.map((approval) => approval.userId) },
      source: { platform: 'slack', conversationId: 'C0FINOPS', messageId: '1795406531.000100' },
      note: 'reason' in event ? event.reason : undefined,
    };
    return { next: outcome.next, audit: [entry] };
  });
}

const approve = (store: RightsizingStore, id: number, userId: string, at = LATER) => decide(store, id, { kind: 'approve', userId, at });

describe(`rightsizing store on ${testDatabaseKind}`, () => {
  let test: TestDatabase;
  let others: Database[] = [];
  let store: PgRightsizingStore;

  beforeAll(async () => {
    test = await openTestDatabase();
    store = new PgRightsizingStore(test.database.db);
    // Two more instances, each with its own pool, where there is a server to share.
    others = test.url ? await Promise.all([1, 2].map(() => openDatabase({ kind: 'postgres', url: test.url! }))) : [];
  });

  afterAll(async () => {
    for (const other of others) await other.close();
    await test.dispose();
  });

  beforeEach(async () => emptyAllTables(test.database));

  const instances = () => [store, ...others.map((other) => new PgRightsizingStore(other.db))];
  const byKey = async (key: string) => (await store.list({})).find((record) => record.key === key)!;

  it('adds new recommendations as pending, with exact amounts and the approvals each needs', async () => {
    const big = candidate('big', { monthlySavings: parseAmount('500'), currentMonthlyCost: parseAmount('99999999999999.9999999999') });
    const idle = candidate('idle', {
      action: 'terminate',
      targetType: undefined,
      instanceName: undefined,
      team: '',
      cpuMaxPercent: undefined,
      memoryMaxPercent: 3.25,
      monthlySavings: parseAmount('0.0000000001'),
    });
    expect(await store.saveCandidates([big, idle], options(AT))).toEqual({ added: 2, updated: 0, withdrawn: 0 });
    const saved = await byKey('big');
    expect(saved).toEqual({
      ...big,
      id: saved.id,
      status: 'pending',
      approvals: [],
      approvalsNeeded: 2,
      decidedBy: undefined,
      decidedAt: undefined,
      reason: undefined,
      execution: [],
      appliedAt: undefined,
      realisedMonthlySavings: undefined,
      version: 1,
      createdAt: AT,
      seenAt: AT,
    });
    expect(saved.currentMonthlyCost).toBe(999999999999999999999999n);
    const stopped = await byKey('idle');
    expect(stopped).toMatchObject({ ...idle, approvalsNeeded: 1, status: 'pending' });
    expect(stopped.monthlySavings).toBe(1n);
    expect(await store.get(stopped.id)).toEqual(stopped);
    expect(await store.get(987654)).toBeUndefined();
  });

  it('updates a pending recommendation in place, growing its version only when a figure changed', async () => {
    await store.saveCandidates([candidate('a'), candidate('b')], options(AT));
    const first = await byKey('a');
    // The same report again: only when it was seen moves.
    expect(await store.saveCandidates([candidate('a'), candidate('b')], options(LATER))).toEqual({ added: 0, updated: 0, withdrawn: 0 });
    expect(await byKey('a')).toEqual({ ...first, seenAt: LATER });
    // New figures: written, version one up, approvals needed recomputed.
    const changed = candidate('a', { monthlySavings: parseAmount('612.5'), cpuMaxPercent: 9.75, instanceName: undefined, team: 'search' });
    expect(await store.saveCandidates([changed, candidate('b')], options(LATEST))).toEqual({ added: 0, updated: 1, withdrawn: 0 });
    expect(await byKey('a')).toEqual({ ...first, ...changed, approvalsNeeded: 2, version: 2, seenAt: LATEST });
    expect((await byKey('b')).version).toBe(1);
    expect(await store.list({})).toHaveLength(2);
  });

  it('leaves decided recommendations as they are, noting only that they were seen', async () => {
    await store.saveCandidates([candidate('a'), candidate('b')], options(AT));
    const a = await byKey('a');
    const b = await byKey('b');
    await approve(store, a.id, 'U0ALICE');
    await decide(store, b.id, { kind: 'reject', userId: 'U0BOB', at: LATER, reason: 'batch job peaks at night' });
    const approved = (await store.get(a.id))!;
    const rejected = (await store.get(b.id))!;
    const cheaper = { currentType: 'm5.4xlarge', monthlySavings: parseAmount('999') };
    expect(await store.saveCandidates([candidate('a', cheaper), candidate('b', cheaper)], options(LATEST))).toEqual({ added: 0, updated: 0, withdrawn: 0 });
    expect(await store.get(a.id)).toEqual({ ...approved, seenAt: LATEST });
    expect(await store.get(b.id)).toEqual({ ...rejected, seenAt: LATEST });
    // No longer reported: decided ones are not withdrawn.
    expect(await store.saveCandidates([], options(LATEST))).toEqual({ added: 0, updated: 0, withdrawn: 0 });
    expect((await store.get(a.id))!.status).toBe('approved');
  });

  it('withdraws pending recommendations the source stopped reporting, with an audit entry', async () => {
    await store.saveCandidates([candidate('a'), candidate('b', { team: 'search' }), candidate('c')], options(AT));
    const b = await byKey('b');
    expect(await store.saveCandidates([candidate('a'), candidate('c')], options(LATER))).toEqual({ added: 0, updated: 0, withdrawn: 1 });
    expect(await store.get(b.id)).toEqual({ ...b, status: 'expired', decidedBy: 'system', decidedAt: LATER, reason: WITHDRAWN_REASON, version: 2 });
    expect(await store.audit({ limit: 10 })).toEqual([
      {
        id: expect.any(Number),
        at: LATER,
        actor: 'system',
        team: 'search',
        recommendationId: b.id,
        action: 'expire',
        before: { status: 'pending' },
        after: { status: 'expired' },
        source: undefined,
        note: 'the source no longer recommends it',
      },
    ]);
    // An empty report (a successful read with nothing recommended) withdraws every pending one.
    expect(await store.saveCandidates([], options(LATEST))).toEqual({ added: 0, updated: 0, withdrawn: 2 });
    expect((await store.list({})).map((record) => record.status)).toEqual(['expired', 'expired', 'expired']);
    expect(await store.audit({ limit: 10 })).toHaveLength(3);
  });

  it('offers an expired recommendation again as a new one when the source reports it again', async () => {
    await store.saveCandidates([candidate('a')], options(AT));
    const old = await byKey('a');
    await store.saveCandidates([], options(LATER));
    expect(await store.saveCandidates([candidate('a')], options(LATEST))).toEqual({ added: 1, updated: 0, withdrawn: 0 });
    const all = await store.list({});
    expect(all.map((record) => [record.id, record.status])).toEqual([
      [expect.any(Number), 'pending'],
      [old.id, 'expired'],
    ]);
    const renewed = all[0]!;
    expect(renewed.id).not.toBe(old.id);
    expect(renewed).toMatchObject({ key: 'a', version: 1, approvals: [], createdAt: LATEST });
    // The next sync updates the new one, never the expired one.
    expect(await store.saveCandidates([candidate('a', { cpuMaxPercent: 1 })], options(LATEST))).toEqual({ added: 0, updated: 1, withdrawn: 0 });
    expect((await store.get(old.id))!.cpuMaxPercent).toBe(12.5);
    expect((await store.get(renewed.id))!.cpuMaxPercent).toBe(1);
  });

  it('keeps one row per key when the same report names it twice, or two syncs race', async () => {
    expect(await store.saveCandidates([candidate('a', { cpuMaxPercent: 1 }), candidate('a', { cpuMaxPercent: 2 })], options(AT))).toEqual({ added: 1, updated: 0, withdrawn: 0 });
    expect((await byKey('a')).cpuMaxPercent).toBe(2);
    const keys = ['b', 'c', 'd', 'e'];
    const all = instances();
    const reports = await Promise.all(all.map((instance) => instance.saveCandidates([candidate('a'), ...keys.map((key) => candidate(key))], options(LATER))));
    expect(reports.reduce((sum, report) => sum + report.added, 0)).toBe(keys.length);
    expect((await store.list({})).map((record) => record.key).sort()).toEqual(['a', ...keys]);
  });

  it('lists pending first by saving, then the newest decision first; by team and status', async () => {
    await store.saveCandidates(
      [
        candidate('small', { monthlySavings: parseAmount('10') }),
        candidate('large', { monthlySavings: parseAmount('300') }),
        candidate('medium', { monthlySavings: parseAmount('40.5') }),
        candidate('early', { monthlySavings: parseAmount('1000') }),
        candidate('late', { monthlySavings: parseAmount('2000') }),
        candidate('other', { team: 'search', monthlySavings: parseAmount('5000') }),
      ],
      options(AT),
    );
    await decide(store, (await byKey('early')).id, { kind: 'reject', userId: 'U0BOB', at: LATER, reason: 'needed' });
    await decide(store, (await byKey('late')).id, { kind: 'reject', userId: 'U0BOB', at: LATEST, reason: 'needed' });
    expect((await store.list({ team: 'payments' })).map((record) => record.key)).toEqual(['large', 'medium', 'small', 'late', 'early']);
    expect((await store.list({})).map((record) => record.key)).toEqual(['other', 'large', 'medium', 'small', 'late', 'early']);
    expect((await store.list({ team: 'search' })).map((record) => record.key)).toEqual(['other']);
    expect((await store.list({ team: 'payments', statuses: ['rejected'] })).map((record) => record.key)).toEqual(['late', 'early']);
    expect((await store.list({ statuses: ['pending', 'approved'] })).map((record) => record.key)).toEqual(['other', 'large', 'medium', 'small']);
    expect(await store.list({ statuses: [] })).toEqual([]);
    expect(await store.list({ team: 'nobody' })).toEqual([]);
  });

  it('records both of two racing approvals on a two-approver recommendation, and approves it once', async () => {
    await store.saveCandidates([candidate('big', { monthlySavings: parseAmount('800') })], options(AT));
    const { id } = await byKey('big');
    const [first, second] = instances();
    const results = await Promise.all([approve(first!, id, 'U0ALICE', LATER), approve(second ?? first!, id, 'U0BOB', minutes(LATER, 1))]);
    expect(results.map((result) => result!.changed)).toEqual([true, true]);
    const after = (await store.get(id))!;
    expect(after.status).toBe('approved');
    expect(after.approvals.map((approval) => approval.userId).sort()).toEqual(['U0ALICE', 'U0BOB']);
    expect(after.version).toBe(3);
    expect(results.filter((result) => result!.record.status === 'approved')).toHaveLength(1);
    const entries = await store.audit({ limit: 10 });
    expect(entries.map((entry) => entry.action)).toEqual(['approve', 'approve']);
    expect(entries.filter((entry) => (entry.after as { status: string }).status === 'approved')).toHaveLength(1);
  });

  it('approves a one-approver recommendation once when two approvers race; the other changes nothing', async () => {
    await store.saveCandidates([candidate('a')], options(AT));
    const { id } = await byKey('a');
    const all = instances();
    const users = ['U0ALICE', 'U0BOB', 'U0CAROL', 'U0DAVE'];
    const results = await Promise.all(users.map((user, index) => approve(all[index % all.length]!, id, user)));
    expect(results.filter((result) => result!.changed)).toHaveLength(1);
    const after = (await store.get(id))!;
    expect(after).toMatchObject({ status: 'approved', approvalsNeeded: 1, version: 2 });
    expect(after.approvals).toHaveLength(1);
    expect(after.decidedBy).toBe(after.approvals[0]!.userId);
    for (const result of results.filter((result) => !result!.changed)) expect(result!.record.status).toBe('approved');
    expect(await store.audit({ limit: 10 })).toHaveLength(1);
    // The same approver clicking again changes nothing either.
    expect((await approve(store, id, after.decidedBy!))!.changed).toBe(false);
  });

  it('writes a transition and its audit entries together, or neither', async () => {
    await store.saveCandidates([candidate('a')], options(AT));
    const before = await byKey('a');
    expect(await store.transition(987654, () => undefined)).toBeUndefined();
    expect(await store.transition(before.id, () => undefined)).toEqual({ record: before, changed: false });
    await expect(
      store.transition(before.id, (current) => ({
        next: { ...current, status: 'rejected', decidedBy: 'U0BOB', decidedAt: LATER, reason: 'no' },
        // The audit entry names a recommendation that does not exist: the record is not written either.
        audit: [{ at: LATER, actor: 'U0BOB', team: current.team, recommendationId: 987654, action: 'reject', before: {}, after: {}, source: undefined, note: undefined }],
      })),
    ).rejects.toThrow();
    expect(await store.get(before.id)).toEqual(before);
    await expect(store.transition(before.id, (current) => ({ next: { ...current, status: 'applied' }, audit: [] }))).rejects.toThrow(/cannot move from pending to applied/);
    expect(await store.audit({ limit: 10 })).toEqual([]);

    // Approved, dry-run steps recorded, applied, realised: every field written, version one up each time.
    await approve(store, before.id, 'U0ALICE');
    const step = { step: 'stop', ok: true, detail: 'DryRunOperation', at: LATER };
    const withSteps = await store.transition(before.id, (current) => ({ next: { ...current, execution: [step] }, audit: [] }));
    expect(withSteps!.record.execution).toEqual([step]);
    const applied = await store.transition(before.id, (current) => ({ next: { ...current, status: 'applied', appliedAt: LATEST }, audit: [] }));
    expect(applied!.record).toMatchObject({ status: 'applied', appliedAt: LATEST, version: 4 });
    const realised = await store.transition(before.id, (current) => ({ next: { ...current, realisedMonthlySavings: parseAmount('139.9999999999') }, audit: [] }));
    expect(realised).toEqual({ record: (await store.get(before.id))!, changed: true });
    expect(realised!.record).toMatchObject({
      realisedMonthlySavings: 1399999999999n,
      approvals: [{ userId: 'U0ALICE', at: LATER }],
      decidedBy: 'U0ALICE',
      decidedAt: LATER,
      execution: [step],
      version: 5,
    });
  });

  it('keeps the audit log newest first, by team, with where each decision came from', async () => {
    const entry = (at: Date, team: string, action: string, extra: Partial<NewAuditEntry> = {}): NewAuditEntry => ({
      at,
      actor: 'U0ALICE',
      team,
      recommendationId: undefined,
      action,
      before: { status: 'pending', approvals: [] },
      after: { status: 'approved', approvals: [{ userId: 'U0ALICE', at: AT.toISOString() }] },
      source: undefined,
      note: undefined,
      ...extra,
    });
    await store.appendAudit([]);
    await store.appendAudit([entry(AT, 'payments', 'approve'), entry(LATER, 'search', 'reject', { note: 'needed for the sale', source: { platform: 'teams', conversationId: '19:abc' } })]);
    await store.appendAudit([entry(LATER, 'payments', 'dry-run', { actor: 'system', before: undefined, after: undefined }), entry(AT, '', 'approve', { source: { platform: 'console' } })]);
    const all = await store.audit({ limit: 10 });
    // Newest first; entries at the same time, the later written first.
    expect(all.map((item) => [item.team, item.action])).toEqual([
      ['payments', 'dry-run'],
      ['search', 'reject'],
      ['', 'approve'],
      ['payments', 'approve'],
    ]);
    expect(all[0]).toEqual({ id: expect.any(Number), ...entry(LATER, 'payments', 'dry-run', { actor: 'system', before: undefined, after: undefined }) });
    expect(all[1]).toEqual({ id: expect.any(Number), ...entry(LATER, 'search', 'reject', { note: 'needed for the sale', source: { platform: 'teams', conversationId: '19:abc' } }) });
    expect(all[2]!.source).toEqual({ platform: 'console' });
    expect(all[3]!.after).toEqual({ status: 'approved', approvals: [{ userId: 'U0ALICE', at: '2026-11-21T06:00:00.000Z' }] });
    expect((await store.audit({ team: 'payments', limit: 10 })).map((item) => item.action)).toEqual(['dry-run', 'approve']);
    expect((await store.audit({ team: '', limit: 10 })).map((item) => item.action)).toEqual(['approve']);
    expect(await store.audit({ limit: 2 })).toEqual(all.slice(0, 2));
  });

  it('refuses every UPDATE and DELETE of the audit log, in the database itself', async () => {
    await store.saveCandidates([candidate('a')], options(AT));
    await approve(store, (await byKey('a')).id, 'U0ALICE');
    const [written] = await store.audit({ limit: 1 });
    await expect(test.database.db.execute(sql`update rightsizing_audit set actor = 'U0MALLORY'`)).rejects.toThrow();
    await expect(test.database.db.execute(sql`delete from rightsizing_audit where id = ${written!.id}`)).rejects.toThrow();
    await expect(test.database.db.execute(sql`delete from rightsizing_audit where false`)).rejects.toThrow();
    const refusal = await test.database.db.execute(sql`update rightsizing_audit set note = 'x'`).then(
      () => undefined,
      (error: unknown) => error as Error & { cause?: Error },
    );
    expect(refusal?.cause?.message ?? refusal?.message).toMatch(/append-only: UPDATE is not allowed/);
    expect(await store.audit({ limit: 10 })).toEqual([written]);
    // TRUNCATE stays possible, for maintenance.
    await test.database.db.execute(sql`truncate rightsizing_audit`);
    expect(await selectRows(test.database.db, sql`select * from rightsizing_audit`)).toEqual([]);
  });

  it('gives an approved recommendation to one executor at a time, and lets a stale claim be taken over', async () => {
    await store.saveCandidates([candidate('a'), candidate('b')], options(AT));
    const a = await byKey('a');
    const b = await byKey('b');
    expect(await store.claimExecution(a.id, 'pending-holder', LATER, STALE_MS)).toBe(false);
    expect(await store.awaitingExecution(LATER, STALE_MS)).toEqual([]);
    await approve(store, a.id, 'U0ALICE');
    await approve(store, b.id, 'U0ALICE', minutes(LATER, 1));
    expect((await store.awaitingExecution(LATER, STALE_MS)).map((record) => record.key)).toEqual(['a', 'b']);

    const all = instances();
    const claims = await Promise.all(['one', 'two', 'three', 'four'].map((holder, index) => all[index % all.length]!.claimExecution(a.id, holder, LATER, STALE_MS)));
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect((await store.awaitingExecution(minutes(LATER, 14), STALE_MS)).map((record) => record.key)).toEqual(['b']);
    expect(await store.claimExecution(a.id, 'late', minutes(LATER, 14), STALE_MS)).toBe(false);
    // The holder died without a result: taken over once, and the takeover starts a new wait.
    expect((await store.awaitingExecution(minutes(LATER, 16), STALE_MS)).map((record) => record.key)).toEqual(['a', 'b']);
    const takeovers = await Promise.all(all.flatMap((instance) => [instance.claimExecution(a.id, 'x', minutes(LATER, 16), STALE_MS), instance.claimExecution(a.id, 'y', minutes(LATER, 16), STALE_MS)]));
    expect(takeovers.filter(Boolean)).toHaveLength(1);
    expect(await store.claimExecution(a.id, 'z', minutes(LATER, 20), STALE_MS)).toBe(false);
    // Once applied it is nobody's to execute.
    await store.transition(a.id, (current) => ({ next: { ...current, status: 'applied', appliedAt: minutes(LATER, 20) }, audit: [] }));
    expect(await store.claimExecution(a.id, 'z', LATEST, STALE_MS)).toBe(false);
    expect((await store.awaitingExecution(LATEST, STALE_MS)).map((record) => record.key)).toEqual(['b']);
    expect(await store.claimExecution(987654, 'z', LATEST, STALE_MS)).toBe(false);
  });

  it('finds pending ones created before a cutoff, and applied ones whose realised saving is due', async () => {
    await store.saveCandidates([candidate('old'), candidate('applied-early'), candidate('applied-late')], options(AT));
    await store.saveCandidates([candidate('old'), candidate('applied-early'), candidate('applied-late'), candidate('new')], options(LATER));
    expect((await store.pendingBefore(LATER)).map((record) => record.key)).toEqual(['applied-early', 'applied-late', 'old']);
    expect(await store.pendingBefore(AT)).toEqual([]);
    const apply = async (key: string, at: Date) => {
      const { id } = await byKey(key);
      await approve(store, id, 'U0ALICE');
      await store.transition(id, (current) => ({ next: { ...current, status: 'applied', appliedAt: at }, audit: [] }));
      return id;
    };
    const early = await apply('applied-early', LATER);
    await apply('applied-late', LATEST);
    expect(await store.realisationDue(LATER)).toEqual([]);
    expect((await store.realisationDue(minutes(LATEST, 1))).map((record) => record.key)).toEqual(['applied-early', 'applied-late']);
    expect((await store.realisationDue(LATEST)).map((record) => record.key)).toEqual(['applied-early']);
    await store.transition(early, (current) => ({ next: { ...current, realisedMonthlySavings: 0n }, audit: [] }));
    expect((await store.realisationDue(minutes(LATEST, 1))).map((record) => record.key)).toEqual(['applied-late']);
    expect((await store.pendingBefore(LATEST)).map((record) => record.key)).toEqual(['old', 'new']);
  });

  it("sets, replaces and removes a team's approvers, auditing each change", async () => {
    expect(await store.listApprovers()).toEqual([]);
    const alice = { kind: 'user', id: 'U0ALICE' } as const;
    const leads = { kind: 'group', id: 'S0LEADS' } as const;
    expect(await store.setApprovers({ team: 'payments', approvers: [alice], setBy: 'U0ADMIN', setAt: AT })).toEqual([]);
    expect(await store.setApprovers({ team: '*', approvers: [leads], setBy: 'console', setAt: AT })).toEqual([]);
    expect(await store.setApprovers({ team: 'payments', approvers: [alice, leads], setBy: 'U0BOSS', setAt: LATER })).toEqual([alice]);
    expect(await store.listApprovers()).toEqual([
      { team: '*', approvers: [leads], setBy: 'console', setAt: AT },
      { team: 'payments', approvers: [alice, leads], setBy: 'U0BOSS', setAt: LATER },
    ]);
    expect(await store.setApprovers({ team: 'payments', approvers: [], setBy: 'U0ADMIN', setAt: LATEST })).toEqual([alice, leads]);
    expect(await store.setApprovers({ team: 'nobody', approvers: [], setBy: 'U0ADMIN', setAt: LATEST })).toEqual([]);
    expect(await store.listApprovers()).toEqual([{ team: '*', approvers: [leads], setBy: 'console', setAt: AT }]);
    const entries = await store.audit({ team: 'payments', limit: 10 });
    expect(entries).toEqual([
      { id: expect.any(Number), at: LATEST, actor: 'U0ADMIN', team: 'payments', recommendationId: undefined, action: 'approvers', before: [alice, leads], after: [], source: undefined, note: undefined },
      { id: expect.any(Number), at: LATER, actor: 'U0BOSS', team: 'payments', recommendationId: undefined, action: 'approvers', before: [alice], after: [alice, leads], source: undefined, note: undefined },
      { id: expect.any(Number), at: AT, actor: 'U0ADMIN', team: 'payments', recommendationId: undefined, action: 'approvers', before: [], after: [alice], source: undefined, note: undefined },
    ]);
    expect((await store.audit({ team: '*', limit: 10 })).map((entry) => entry.after)).toEqual([[leads]]);
  });

  it('hands each racing approvers change back the list it replaced, across instances', async () => {
    const lists = ['U1', 'U2', 'U3', 'U4', 'U5', 'U6'].map((id) => [{ kind: 'user', id } as const]);
    const all = instances();
    const replaced = await Promise.all(lists.map((approvers, index) => all[index % all.length]!.setApprovers({ team: 'payments', approvers, setBy: 'U0ADMIN', setAt: AT })));
    expect(replaced.filter((previous) => previous.length === 0)).toHaveLength(1);
    const final = (await store.listApprovers())[0]!.approvers[0]!.id;
    expect([...replaced.flatMap((previous) => previous.map((approver) => approver.id)), final].sort()).toEqual(['U1', 'U2', 'U3', 'U4', 'U5', 'U6']);
    expect(await store.audit({ limit: 10 })).toHaveLength(6);
  });

  it('edits a team\'s approvers on the list as it is: six admins adding someone at once across instances all count, and an edit that changes nothing writes nothing', async () => {
    const all = instances();
    const ids = ['U1', 'U2', 'U3', 'U4', 'U5', 'U6'];
    await Promise.all(
      ids.map((id, index) =>
        all[index % all.length]!.editApprovers('payments', (current) => [...current, { kind: 'user', id }], { setBy: 'U0ADMIN', setAt: AT }),
      ),
    );
    expect((await store.listApprovers())[0]!.approvers.map((approver) => approver.id).sort()).toEqual(ids);
    expect(await store.audit({ limit: 10 })).toHaveLength(6);
    const same = await store.editApprovers('payments', (current) => current, { setBy: 'U0ADMIN', setAt: LATER });
    expect(same.after).toEqual(same.before);
    expect(await store.audit({ limit: 10 })).toHaveLength(6);
  });

  it('remembers when the last sync was saved, even one that found nothing', async () => {
    expect(await store.lastSyncedAt()).toBeUndefined();
    await store.saveCandidates([candidate('a')], options(AT));
    expect(await store.lastSyncedAt()).toEqual(AT);
    await store.saveCandidates([], options(LATEST));
    expect(await store.lastSyncedAt()).toEqual(LATEST);
    await store.saveCandidates([], options(LATER));
    expect(await store.lastSyncedAt()).toEqual(LATEST);
    expect(await selectRows(test.database.db, sql`select added, updated, withdrawn from rightsizing_syncs order by id`)).toEqual([
      { added: 1, updated: 0, withdrawn: 0 },
      { added: 0, updated: 0, withdrawn: 1 },
      { added: 0, updated: 0, withdrawn: 0 },
    ]);
  });
});

