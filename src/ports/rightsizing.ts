/**
 * The interfaces rightsizing needs from the outside world: where recommendations come from
 * (Cost Explorer or the demo organisation), the store that keeps them with their approvals
 * and append-only audit log, who may approve, and EC2 for carrying a change out.
 * Re-exported by ports.ts.
 */
import type { Amount } from '../core/money.js';
import type { PersonRef } from '../core/people.js';
import type { RightsizingStatus } from '../core/rightsizing.js';

/** What a recommendation proposes: a smaller instance type, or stopping an idle instance. */
export type RightsizingAction = 'modify' | 'terminate';

/** One recommendation as its source reports it. */
export interface RightsizingCandidate {
  /**
   * Identity across syncs: the same advice for the same instance has the same key
   * (account, instance, current type and proposed type), so a sync updates it, never adds it twice.
   */
  readonly key: string;
  readonly accountId: string;
  readonly region: string;
  /** EC2 instance id (i-0123…). */
  readonly instanceId: string;
  /** The instance's Name tag, when it has one. */
  readonly instanceName: string | undefined;
  /** The owning team, from the team tag ('' = the instance has no team tag). */
  readonly team: string;
  readonly action: RightsizingAction;
  readonly currentType: string;
  /** The proposed type; undefined for `terminate`. */
  readonly targetType: string | undefined;
  /** Highest CPU utilisation over the lookback period, in percent. */
  readonly cpuMaxPercent: number | undefined;
  /** Highest memory utilisation, in percent (undefined without the CloudWatch agent). */
  readonly memoryMaxPercent: number | undefined;
  /** What the instance costs a month now. */
  readonly currentMonthlyCost: Amount;
  /** Estimated saving a month if the change is made. */
  readonly monthlySavings: Amount;
  readonly currency: string;
  /** Days of utilisation the advice rests on (AWS: 14 by default). */
  readonly lookbackDays: number;
}

/** One person's approval of a recommendation. */
export interface RightsizingApproval {
  readonly userId: string;
  readonly at: Date;
  /** The message the approval was clicked in (reports of the change go back there). */
  readonly source?: SourceMessage | undefined;
}

/** One step of carrying a change out (or of proving it could be). */
export interface ExecutionStep {
  readonly step: string;
  readonly ok: boolean;
  readonly detail: string;
  readonly at: Date;
}

/** A recommendation as stored, with its approvals, decision and execution. */
export interface RightsizingRecord extends RightsizingCandidate {
  readonly id: number;
  readonly status: RightsizingStatus;
  readonly approvals: readonly RightsizingApproval[];
  /** Approvals the decision needs (1, or 2 above the configured saving). */
  readonly approvalsNeeded: number;
  /** Who made the last decision (approved, rejected; 'system' for expiry) and when. */
  readonly decidedBy: string | undefined;
  readonly decidedAt: Date | undefined;
  /** A rejection's reason, or why it expired. */
  readonly reason: string | undefined;
  /** The steps of its execution (a dry run's or a real one's), in order. */
  readonly execution: readonly ExecutionStep[];
  /** When the change was applied. */
  readonly appliedAt: Date | undefined;
  /** The saving measured 30 days after applying, once reported. */
  readonly realisedMonthlySavings: Amount | undefined;
  /** Grows with every change a message shows. */
  readonly version: number;
  readonly createdAt: Date;
  /** When the source last reported it. */
  readonly seenAt: Date;
}

/** Where a decision was taken: the message whose button was clicked. */
export interface SourceMessage {
  readonly platform: 'slack' | 'teams' | 'console';
  readonly conversationId?: string | undefined;
  readonly messageId?: string | undefined;
}

/** One entry of the append-only audit log. */
export interface AuditEntry {
  readonly id: number;
  readonly at: Date;
  /** A user id, 'system' (expiry, sync) or 'console'. */
  readonly actor: string;
  /** The team the entry concerns. */
  readonly team: string;
  /** The recommendation, for recommendation events. */
  readonly recommendationId: number | undefined;
  /** What happened: approve, reject, expire, dry-run, apply, fail, realised, approvers. */
  readonly action: string;
  /** State before and after (status and approvals; the approver list for `approvers`). */
  readonly before: unknown;
  readonly after: unknown;
  readonly source: SourceMessage | undefined;
  /** A sentence: the reason, the step that failed, the saving measured. */
  readonly note: string | undefined;
}

/** What the audit log is given; the store adds the id. */
export type NewAuditEntry = Omit<AuditEntry, 'id'>;

/** An approver: a user, or a group whose members all may approve (a Slack user group, later an AAD group). */
export type Approver = PersonRef;

/** A team's approvers as stored, with who last changed them. */
export interface TeamApprovers {
  /** The team, or '*' for approvers of every team. */
  readonly team: string;
  readonly approvers: readonly Approver[];
  readonly setBy: string;
  readonly setAt: Date;
}

/** Recommendations, approvals, approvers and the audit log, shared by every instance. */
export interface RightsizingStore {
  /**
   * Writes a sync's recommendations: new keys become pending; a pending one gets the new
   * figures; decided ones are left as they are (an expired one's key is offered again as a
   * new recommendation). Pending ones the source no longer reports are expired, with an audit
   * entry. Returns how many were added, updated and withdrawn.
   */
  saveCandidates(candidates: readonly RightsizingCandidate[], options: { at: Date; approvalsNeeded: (candidate: RightsizingCandidate) => number }): Promise<{ added: number; updated: number; withdrawn: number }>;
  /** When the last sync was saved (undefined: never). */
  lastSyncedAt(): Promise<Date | undefined>;
  /** Recommendations of `team` (all teams when undefined), newest decision first after the pending ones. */
  list(filter: { team?: string | undefined; statuses?: readonly RightsizingStatus[] }): Promise<RightsizingRecord[]>;
  get(id: number): Promise<RightsizingRecord | undefined>;
  /**
   * Runs `change` on the recommendation locked for update (one decision at a time, across
   * instances): it returns the record as it must be after, and the audit entries to append,
   * or undefined for no change. Written in one transaction, so the record and its audit
   * entries never disagree. Returns the record after, and whether it changed.
   */
  transition(
    id: number,
    change: (current: RightsizingRecord) => { readonly next: RightsizingRecord; readonly audit: readonly NewAuditEntry[] } | undefined,
  ): Promise<{ record: RightsizingRecord; changed: boolean } | undefined>;
  /** Pending recommendations created before `cutoff`. */
  pendingBefore(cutoff: Date): Promise<RightsizingRecord[]>;
  /**
   * Takes the execution of an approved recommendation, once across instances (a claim left
   * `staleMs` without a result may be taken over); false when another instance has it.
   */
  claimExecution(id: number, holder: string, at: Date, staleMs: number): Promise<boolean>;
  /** Approved recommendations whose execution has not been claimed or was abandoned. */
  awaitingExecution(at: Date, staleMs: number): Promise<RightsizingRecord[]>;
  /** Applied recommendations whose realised saving is due (applied before `cutoff`) and not yet reported. */
  realisationDue(cutoff: Date): Promise<RightsizingRecord[]>;
  /** Appends entries to the audit log. */
  appendAudit(entries: readonly NewAuditEntry[]): Promise<void>;
  /** The latest audit entries, newest first (only `team`'s when given). */
  audit(filter: { team?: string | undefined; limit: number }): Promise<AuditEntry[]>;
  /** Every team's stored approvers. */
  listApprovers(): Promise<TeamApprovers[]>;
  /**
   * Replaces a team's approvers (an empty list removes the row), with an audit entry in the
   * same transaction; returns the list it replaced.
   */
  setApprovers(change: TeamApprovers): Promise<readonly Approver[]>;
  /**
   * Edits a team's approvers on the list as it is now (locked, so two admins editing at once
   * both count), with an audit entry; an edit that changes nothing writes nothing.
   */
  editApprovers(team: string, edit: (current: readonly Approver[]) => readonly Approver[], by: { setBy: string; setAt: Date }): Promise<{ before: readonly Approver[]; after: readonly Approver[] }>;
}

/** Where recommendations come from. */
export interface RightsizingSource {
  /** Every current EC2 recommendation (all pages; each page of Cost Explorer's is a paid request). */
  getRecommendations(): Promise<RightsizingCandidate[]>;
}

/** Who belongs to a group of approvers (a Slack user group). */
export interface ApproverDirectory {
  /** The group's member user ids. Throws a FinOpsError with a sentence when they cannot be read. */
  membersOf(groupId: string): Promise<readonly string[]>;
}

/** The change EC2 is asked to make. */
export interface InstanceChange {
  readonly accountId: string;
  readonly region: string;
  readonly instanceId: string;
  readonly action: RightsizingAction;
  readonly currentType: string;
  readonly targetType: string | undefined;
  /**
   * An earlier attempt of the bot's was cut off (a restart) after it had the instance stopped:
   * found stopped, it is changed (unless it already has the new type) and started again
   * rather than left stopped.
   */
  readonly resume?: boolean | undefined;
}

/** Carries a change out on EC2, reporting each step; never throws for EC2's refusals (they are failed steps). */
export interface InstanceExecutor {
  /**
   * Asks EC2 with `DryRun` whether every call of the change would be allowed (stop, modify,
   * start); changes nothing.
   */
  dryRun(change: InstanceChange): Promise<ExecutionStep[]>;
  /**
   * Makes the change: for `modify`, stops the instance, waits until it is stopped, changes its
   * type, starts it; for `terminate`, stops it (reversible, unlike terminating). A failure ends
   * the steps (restarting an instance it stopped when the type change failed). Just before it
   * asks EC2 to stop a running instance it hands `progress` a `stopping` step, kept at once.
   */
  apply(change: InstanceChange, progress?: (step: ExecutionStep) => Promise<void>): Promise<ExecutionStep[]>;
}
