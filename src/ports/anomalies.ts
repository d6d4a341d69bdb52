/**
 * The interfaces anomaly detection needs from the outside world: the store of detected
 * anomalies and of their alert messages, AWS Cost Anomaly Detection, and a notifier that
 * posts and updates alert messages. Re-exported by ports.ts.
 */
import type { Severity } from '../core/anomaly.js';
import type { Amount } from '../core/money.js';
import type { DateRange, PlainDate } from '../core/period.js';
import type { Reply, ReplyButton } from '../core/reply.js';

/** The series an anomaly was found in. `value` is a service name or an account id. */
export type AnomalyScope =
  | { readonly kind: 'team'; readonly team: string }
  | { readonly kind: 'team-service'; readonly team: string; readonly value: string }
  | { readonly kind: 'service'; readonly value: string }
  | { readonly kind: 'account'; readonly value: string }
  /** Found only by AWS Cost Anomaly Detection; `value` is its root cause's service, if any. */
  | { readonly kind: 'aws'; readonly value: string };

/** The dimensions an anomaly's impact is broken down by. */
export type DriverDimension = 'team' | 'service' | 'account' | 'region' | 'usage-type';

/** One driver of an anomaly: how much of its impact one value of a dimension carries. */
export interface AnomalyDriver {
  readonly dimension: DriverDimension;
  /** The dimension's value ('' = untagged team); '*' for the sum of the values not listed. */
  readonly key: string;
  /** Share of the anomaly's impact; the drivers of one dimension add up to the impact exactly. */
  readonly impact: Amount;
}

/** What people decided about an anomaly. */
export type AnomalyStatus = 'open' | 'acknowledged' | 'snoozed' | 'dismissed';

/** An anomaly as detected: what a scan writes. */
export interface DetectedAnomaly {
  /**
   * Identity across scans and instances: the same event found again has the same key, so
   * it is updated, never inserted twice.
   */
  readonly key: string;
  readonly scope: AnomalyScope;
  /** The team that owns it ('' = untagged spend; undefined when no team can be named). */
  readonly team: string | undefined;
  /** First and last anomalous day (inclusive). */
  readonly firstDay: PlainDate;
  readonly lastDay: PlainDate;
  /** Still anomalous on the last day judged (false once a normal day followed). */
  readonly active: boolean;
  /** Sums over the anomalous days. */
  readonly expected: Amount;
  readonly actual: Amount;
  /** actual − expected. */
  readonly impact: Amount;
  readonly severity: Severity;
  /** Highest robust z-score over its days (AWS's max score for AWS-only anomalies). */
  readonly score: number;
  readonly currency: string;
  readonly drivers: readonly AnomalyDriver[];
  /** Found by our detector, by AWS Cost Anomaly Detection, or by both (merged). */
  readonly source: 'finops' | 'aws' | 'both';
  /** AWS's anomaly id, when AWS found it too (feedback goes back to AWS). */
  readonly awsAnomalyId: string | undefined;
}

/** An anomaly as stored, with what people decided about it. */
export interface AnomalyRecord extends DetectedAnomaly {
  readonly id: number;
  readonly status: AnomalyStatus;
  /** Who set the status last (a Slack user id), and when. */
  readonly statusBy: string | undefined;
  readonly statusAt: Date | undefined;
  /** While snoozed: when the snooze ends. */
  readonly snoozedUntil: Date | undefined;
  /** Grows whenever anything an alert shows changes: alerts older than it are updated. */
  readonly version: number;
  readonly detectedAt: Date;
  readonly updatedAt: Date;
}

/** Where one anomaly's alert goes, and how far its delivery got. */
export interface AlertRecord {
  readonly anomalyId: number;
  readonly platform: 'slack' | 'teams';
  readonly conversationId: string;
  /** The posted message (Slack ts), once posted; later versions update it in place. */
  readonly messageId: string | undefined;
  /** The anomaly version the message shows (0: nothing posted yet). */
  readonly postedVersion: number;
  readonly attempts: number;
  readonly error: string | undefined;
}

/** An alert this instance has taken, with its anomaly as it is now. */
export interface ClaimedAlert {
  readonly alert: AlertRecord;
  readonly anomaly: AnomalyRecord;
}

/** Detected anomalies, their status and their alerts, shared by every instance. */
export interface AnomalyStore {
  /**
   * Writes a scan's detections: inserts new keys, updates known ones (their `version`
   * grows only when a shown field changed: days, active, amounts, severity, drivers,
   * source). Status fields are never touched. An alert that ran out of attempts while behind
   * its anomaly gets a new round. Returns the stored records.
   */
  saveDetected(anomalies: readonly DetectedAnomaly[], at: Date): Promise<AnomalyRecord[]>;
  /** Anomalies whose last day is on or after `since`, oldest first (a scan matches new detections against them). */
  listSince(since: PlainDate): Promise<AnomalyRecord[]>;
  /** Anomalies whose days overlap `range` (only `team`'s when given; '' = untagged), biggest impact first. */
  listOverlapping(range: DateRange, team?: string): Promise<AnomalyRecord[]>;
  get(id: number): Promise<AnomalyRecord | undefined>;
  /**
   * Sets the status; `changed` is false when it already had that status (a repeated click),
   * and then nothing is written. A change grows `version`.
   */
  setStatus(id: number, change: { status: AnomalyStatus; by: string; at: Date; snoozedUntil?: Date | undefined }): Promise<{ record: AnomalyRecord; changed: boolean } | undefined>;
  /** Snoozes that have ended go back to `open` (growing `version`); returns how many. */
  endSnoozes(now: Date): Promise<number>;
  /** Makes sure the anomaly has an alert row for each target (idempotent). */
  planAlerts(anomalyId: number, targets: readonly { platform: 'slack' | 'teams'; conversationId: string }[]): Promise<void>;
  /**
   * Takes, under a lease of `leaseMs`, one alert whose posted version is behind its
   * anomaly's version (never posted, or the anomaly changed), on one of `platforms`, not
   * leased by another holder, with attempts left; undefined when none.
   */
  claimAlert(holder: string, leaseMs: number, platforms: readonly ('slack' | 'teams')[]): Promise<ClaimedAlert | undefined>;
  /** The message shows `version` now; releases the lease. False when the lease was lost. */
  recordAlertPosted(alert: AlertRecord, holder: string, messageId: string, version: number): Promise<boolean>;
  /** The attempt failed: `permanent` ones are not retried. Releases the lease. */
  recordAlertFailure(alert: AlertRecord, holder: string, failure: { error: string; permanent: boolean }): Promise<boolean>;
  /**
   * A click redrew the alert in this conversation at `version`, outside the ledger: if that
   * is older than what the ledger says the message shows (a newer update landed first), the
   * ledger is set back so the next delivery pass draws the latest again.
   */
  noteAlertRedrawn(anomalyId: number, target: { platform: 'slack' | 'teams'; conversationId: string }, version: number): Promise<void>;
  /** The anomaly's alerts (to check a button click comes from one of its messages). */
  alertsOf(anomalyId: number): Promise<AlertRecord[]>;
  /**
   * Runs `work` holding the cluster-wide scan lease, or returns undefined at once when
   * another scan (on any instance) holds it.
   */
  withScanLock<T>(work: () => Promise<T>): Promise<T | undefined>;
}

/** An anomaly as AWS Cost Anomaly Detection reports it. */
export interface AwsAnomaly {
  readonly id: string;
  readonly firstDay: PlainDate;
  /** Last day (inclusive); undefined while AWS still considers it ongoing. */
  readonly lastDay: PlainDate | undefined;
  /** Root causes, biggest contribution first (service, account, region, usage type as AWS gives them). */
  readonly rootCauses: readonly {
    readonly service: string | undefined;
    readonly account: string | undefined;
    readonly region: string | undefined;
    readonly usageType: string | undefined;
    readonly contribution: Amount | undefined;
  }[];
  readonly expected: Amount;
  readonly actual: Amount;
  readonly impact: Amount;
  readonly maxScore: number;
  /** Feedback already given (YES, NO, PLANNED_ACTIVITY), if any. */
  readonly feedback: string | undefined;
}

/** Feedback the bot gives AWS: it is an anomaly, or it is not. */
export type AwsAnomalyFeedback = 'YES' | 'NO' | 'PLANNED_ACTIVITY';

/** AWS Cost Anomaly Detection (only with the `aws` cost source). */
export interface AwsAnomalyFeed {
  /** Every anomaly (all pages) AWS reports for `range` (AWS filters by end date, so some start before it). Each page is a paid request. */
  getAnomalies(range: DateRange): Promise<AwsAnomaly[]>;
  /** Tells AWS what people decided. */
  provideFeedback(anomalyId: string, feedback: AwsAnomalyFeedback): Promise<void>;
}

/** A button under an alert: `value` comes back in the click. */
export type AlertButton = ReplyButton;

/** An alert as a message: the reply, its buttons, and who decided its status (the platform names them its own way). */
export interface AlertMessage {
  readonly reply: Reply;
  readonly buttons: readonly AlertButton[];
  readonly decision?: { readonly status: AnomalyStatus; readonly userId: string } | undefined;
}

/** Posts alerts into conversations of one platform and updates them in place. */
export interface AlertNotifier {
  readonly platform: 'slack' | 'teams';
  /** Posts the alert; returns the message id. Throws a DeliveryError when the platform refuses. */
  post(conversationId: string, message: AlertMessage): Promise<string>;
  /** Replaces a posted alert. Throws a DeliveryError when the platform refuses. */
  update(conversationId: string, messageId: string, message: AlertMessage): Promise<void>;
}
