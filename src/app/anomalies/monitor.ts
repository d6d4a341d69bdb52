/**
 * The anomaly monitor: after each sync it scans, routes each recent anomaly to its owning
 * team's channels (every conversation subscribed to the team's digest; a fallback channel
 * for untagged spend and for teams with no channel), and delivers the alerts — once per
 * anomaly and conversation whatever number of instances run, then updated in place as the
 * anomaly grows, ends or is decided. It also takes the button clicks: Acknowledge, Snooze
 * 7 days, Not an anomaly, passed to AWS as feedback on anomalies AWS found.
 */
import { DeliveryError, isFinOpsError } from '../../core/errors.js';
import { addDays, type PlainDate } from '../../core/period.js';
import type { AlertNotifier, AlertMessage, AnomalyRecord, AnomalyStore, AwsAnomalyFeed, Clock, ClaimedAlert, CostStore, Platform, SubscriptionStore } from '../../ports.js';
import { type AnomalyDecision, anomalyAlert, type AnomalyLabels, SNOOZE_DAYS } from './present.js';
import { type AnomalyScanSettings, type ScanReport, scanAnomalies } from './scan.js';
import { accessFor, maySee, seesEveryTeam } from '../team-access.js';
import { loadFreshness } from '../report-context.js';
import { TOTAL_FACET } from '../../core/cost-model.js';

/** Where the monitor reports what it did. */
export interface MonitorLogger {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

/** A conversation on a platform. */
export interface ConversationTarget {
  readonly platform: Platform;
  readonly conversationId: string;
}

/** What the monitor needs. */
export interface MonitorDeps {
  readonly store: CostStore;
  readonly anomalies: AnomalyStore;
  readonly subscriptions: Pick<SubscriptionStore, 'conversationsFor'>;
  readonly notifiers: ReadonlyMap<Platform, AlertNotifier>;
  readonly clock: Clock;
  readonly logger: MonitorLogger;
  /** This instance's name in the alert ledger. */
  readonly holder: string;
  readonly scan: AnomalyScanSettings;
  /** Where alerts go that no team channel takes (untagged spend, teams without a channel). */
  readonly fallback?: ConversationTarget | undefined;
  readonly awsFeed?: AwsAnomalyFeed | undefined;
  /** Reads how accounts are named, for the alerts. */
  readonly accountLabel?: (() => Promise<(id: string) => string>) | undefined;
  /** FINOPS_CHANNEL_TEAMS: conversations confined to some teams get only those teams' alerts. */
  readonly channelTeams?: ReadonlyMap<string, readonly string[]> | undefined;
}

/** What a button click changed, for the clicked message. */
export type DecisionResult =
  | { readonly ok: true; readonly message: AlertMessage; readonly changed: boolean; readonly version: number }
  | { readonly ok: false; readonly reason: string };

/** Days after its last day that an anomaly is still worth a new alert (older ones are listed, not posted). */
const ALERT_WITHIN_DAYS = 7;
/** How long an instance holds an alert it is posting. */
const LEASE_MS = 2 * 60_000;

/** Scans, routes and delivers anomaly alerts; takes decisions on them. */
export class AnomalyMonitor {
  private delivering: Promise<number> | undefined;
  /** Something changed while a pass was running: run another when it ends. */
  private again = false;

  constructor(private readonly deps: MonitorDeps) {}

  /**
   * Scans, plans the alerts of recent open anomalies, and delivers every pending alert.
   * `askAws`: also read AWS Cost Anomaly Detection — a paid request, so only when a sync
   * brought new days, not on every start.
   */
  async run(options: { askAws?: boolean } = {}): Promise<ScanReport & { delivered: number }> {
    await this.deps.anomalies.endSnoozes(this.deps.clock.now());
    const report = await scanAnomalies({ ...this.deps, awsFeed: options.askAws ? this.deps.awsFeed : undefined }, this.deps.scan);
    if (report.lastJudged) await this.routeAlerts(report.saved, report.lastJudged);
    if (report.saved.length > 0) this.deps.logger.info({ saved: report.saved.length, lastJudged: report.lastJudged }, 'anomaly scan finished');
    return { ...report, delivered: await this.deliverPending() };
  }

  /** Gives each recent (last day within a week of `lastJudged`), open anomaly an alert row per target conversation (idempotent). */
  async routeAlerts(records: readonly AnomalyRecord[], lastJudged: PlainDate): Promise<void> {
    const recentFrom = addDays(lastJudged, -ALERT_WITHIN_DAYS);
    for (const record of records) {
      if (record.status !== 'open' || record.lastDay < recentFrom) continue;
      const targets = await this.targetsFor(record);
      const usable = targets.filter((target) => this.deps.notifiers.has(target.platform));
      if (usable.length > 0) await this.deps.anomalies.planAlerts(record.id, usable);
    }
  }

  /**
   * The owning team's subscribed conversations, or the fallback. A conversation confined to
   * some teams only gets an alert about one of them, and only one bound to that team (a
   * service- or account-wide one shows every team's share): never another team's spend.
   */
  private async targetsFor(record: AnomalyRecord): Promise<ConversationTarget[]> {
    const owned = record.team === undefined || record.team === '' ? [] : await this.deps.subscriptions.conversationsFor(record.team);
    const teamBound = record.scope.kind === 'team' || record.scope.kind === 'team-service';
    const allowed = (target: ConversationTarget) => {
      const access = accessFor({ settings: { channelTeams: this.deps.channelTeams } }, { conversationId: target.conversationId });
      return seesEveryTeam(access) || (teamBound && record.team !== undefined && maySee(access, record.team));
    };
    const visible = owned.filter(allowed);
    if (visible.length > 0) return visible;
    return this.deps.fallback && allowed(this.deps.fallback) ? [this.deps.fallback] : [];
  }

  /** Posts or updates every alert that is behind its anomaly; one pass at a time in this instance. */
  async deliverPending(): Promise<number> {
    if (this.delivering) {
      // The running pass may have made its last claim already: it goes round once more.
      this.again = true;
      return this.delivering;
    }
    this.delivering = (async () => {
      let delivered = 0;
      do {
        this.again = false;
        delivered += await this.deliverAll();
      } while (this.again);
      return delivered;
    })().finally(() => (this.delivering = undefined));
    return this.delivering;
  }

  private async deliverAll(): Promise<number> {
    const platforms = [...this.deps.notifiers.keys()];
    if (platforms.length === 0) return 0;
    let delivered = 0;
    const labels = await this.labels();
    for (let claimed = await this.deps.anomalies.claimAlert(this.deps.holder, LEASE_MS, platforms); claimed; claimed = await this.deps.anomalies.claimAlert(this.deps.holder, LEASE_MS, platforms)) {
      if (await this.deliver(claimed, labels)) delivered++;
    }
    return delivered;
  }

  private async deliver({ alert, anomaly }: ClaimedAlert, labels: AnomalyLabels): Promise<boolean> {
    const notifier = this.deps.notifiers.get(alert.platform)!;
    const message = anomalyAlert(anomaly, labels);
    try {
      const messageId = alert.messageId ?? (await notifier.post(alert.conversationId, message));
      if (alert.messageId) await notifier.update(alert.conversationId, alert.messageId, message);
      await this.deps.anomalies.recordAlertPosted(alert, this.deps.holder, messageId, anomaly.version);
      return true;
    } catch (error) {
      const permanent = error instanceof DeliveryError && error.permanent;
      const reason = error instanceof DeliveryError || isFinOpsError(error) ? error.message : 'an unexpected error; the details are in the logs';
      this.deps.logger.warn({ err: error, anomaly: anomaly.id, conversation: alert.conversationId, permanent }, 'could not deliver an anomaly alert');
      await this.deps.anomalies.recordAlertFailure(alert, this.deps.holder, { error: reason, permanent });
      return false;
    }
  }

  private async labels(): Promise<AnomalyLabels> {
    const [account, freshness] = await Promise.all([this.deps.accountLabel?.().catch(() => undefined), loadFreshness(this.deps.store, [TOTAL_FACET]).catch(() => undefined)]);
    return { metric: this.deps.scan.metric, account, dataThrough: freshness?.dataThrough };
  }

  /**
   * A button click on an alert in `conversation`: sets the status (a repeated click changes
   * nothing), tells AWS for anomalies it found, and returns the message as it now reads.
   * Only a conversation the alert was posted to may decide it.
   */
  async decide(request: { anomalyId: number; decision: AnomalyDecision; userId: string; conversation: ConversationTarget }): Promise<DecisionResult> {
    const alerts = await this.deps.anomalies.alertsOf(request.anomalyId);
    const postedHere = alerts.some(
      (alert) => alert.messageId !== undefined && alert.platform === request.conversation.platform && alert.conversationId === request.conversation.conversationId,
    );
    if (!postedHere) return { ok: false, reason: 'This anomaly was not alerted in this conversation, so it cannot be decided here.' };
    const now = this.deps.clock.now();
    const status = request.decision === 'acknowledge' ? 'acknowledged' : request.decision === 'snooze' ? 'snoozed' : 'dismissed';
    const snoozedUntil = status === 'snoozed' ? new Date(now.getTime() + SNOOZE_DAYS * 86_400_000) : undefined;
    const result = await this.deps.anomalies.setStatus(request.anomalyId, { status, by: request.userId, at: now, snoozedUntil });
    if (!result) return { ok: false, reason: 'This anomaly no longer exists.' };
    const awsAnomalyId = result.record.awsAnomalyId;
    if (result.changed && awsAnomalyId && this.deps.awsFeed && status !== 'snoozed') {
      // People's verdict trains AWS's model too. Not awaited: AWS's retries must not hold the
      // click's answer (or the queue behind it), and a failure loses nothing of ours.
      void this.deps.awsFeed.provideFeedback(awsAnomalyId, status === 'acknowledged' ? 'YES' : 'NO').catch((error: unknown) => {
        this.deps.logger.warn({ err: error, anomaly: result.record.id }, 'could not send anomaly feedback to AWS');
      });
    }
    // The other conversations' copies catch up on the next delivery pass.
    if (result.changed) this.kickDelivery();
    return { ok: true, message: anomalyAlert(result.record, await this.labels()), changed: result.changed, version: result.record.version };
  }

  /**
   * The clicked message was redrawn at `version`. A newer update may have reached it first
   * (two people deciding at once): the ledger is set back so the next pass redraws the latest.
   */
  async redrawn(anomalyId: number, conversation: ConversationTarget, version: number): Promise<void> {
    await this.deps.anomalies.noteAlertRedrawn(anomalyId, conversation, version);
    this.kickDelivery();
  }

  private kickDelivery(): void {
    void this.deliverPending().catch((error: unknown) => this.deps.logger.error({ err: error }, 'anomaly alert delivery failed'));
  }
}
