/**
 * Wiring of rightsizing, beside main.ts: the store, the approver policy and the desk, with
 * recommendations from Cost Explorer (the `aws` source) or the demo organisation, EC2 (or the
 * demo's simulation) when execution is on, and reports posted where the approval came from,
 * else to the team's channels. It knows adapters and the app, never a channel.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { AwsRightsizingSource } from './adapters/aws/rightsizing-source.js';
import { Ec2InstanceExecutor } from './adapters/aws/ec2-executor.js';
import type { PgCostStore } from './adapters/db/cost-store.js';
import type { Database } from './adapters/db/database.js';
import type { PgDigestStore } from './adapters/db/digest-store.js';
import { PgRightsizingStore } from './adapters/db/rightsizing-store.js';
import { DemoInstanceExecutor, DemoRightsizingSource } from './adapters/demo/demo-rightsizing.js';
import type { RightsizingServices } from './app/report-context.js';
import { ApproverPolicy } from './app/rightsizing/approver-policy.js';
import { RightsizingDesk } from './app/rightsizing/desk.js';
import { accessFor, maySee } from './app/team-access.js';
import type { Config } from './config.js';
import { FinOpsError } from './core/errors.js';
import { parseAmount } from './core/money.js';
import type { Logger } from './logger.js';
import type { AppOverrides } from './main.js';
import type { AlertNotifier, ApproverDirectory, Clock, CostSource, Platform } from './ports.js';

/** The rightsizing services for `config`, and a way to give them the chat platform's user-group directory once it starts. */
export function rightsizingServices(
  config: Config,
  logger: Logger,
  overrides: AppOverrides,
  deps: { db: Database['db']; store: PgCostStore; digests: PgDigestStore; clock: Clock; source: CostSource; notifiers: () => ReadonlyMap<Platform, AlertNotifier> },
): { services: RightsizingServices; useDirectory(directory: ApproverDirectory): void } {
  const { store: costs, clock } = deps;
  const store = new PgRightsizingStore(deps.db);
  let directory: ApproverDirectory | undefined;
  const policy = new ApproverPolicy({
    store,
    configured: config.rightsizing,
    clock,
    directory: {
      membersOf: (groupId) => {
        if (!directory) throw new FinOpsError('command_invalid', 'Approver groups can only be read once a chat platform is connected.');
        return directory.membersOf(groupId);
      },
    },
  });
  const aws = config.costSource === 'aws' && !overrides.source;
  const source = overrides.rightsizingSource ?? (aws ? new AwsRightsizingSource({ ledger: costs, clock, logger, teamTag: config.teamTag }) : deps.source.kind === 'demo' ? new DemoRightsizingSource() : undefined);
  const executor =
    overrides.instanceExecutor ??
    (config.rightsizing.execute === 'off' ? undefined : aws ? new Ec2InstanceExecutor({ clock, accountId: config.awsAccountId }) : new DemoInstanceExecutor({ clock }));
  const desk = new RightsizingDesk({
    store,
    costs,
    policy,
    clock,
    logger: logger.child({ component: 'rightsizing' }),
    holder: `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
    settings: {
      twoApproverFrom: parseAmount(config.rightsizing.twoApproverFromUsd),
      expireDays: config.rightsizing.expireDays,
      execute: config.rightsizing.execute,
      metric: config.defaultMetric,
    },
    source,
    executor,
    conversationSees: (conversationId, team) => maySee(accessFor({ settings: { channelTeams: config.ai.channelTeams } }, { conversationId }), team),
    report: async (team, reply, where) => {
      const slack = deps.notifiers().get('slack');
      if (!slack) return;
      const targets = where?.platform === 'slack' && where.conversationId ? [where.conversationId] : (await deps.digests.conversationsFor(team)).filter((target) => target.platform === 'slack').map((target) => target.conversationId);
      const fallback = config.anomalies.fallbackChannel;
      for (const conversationId of targets.length > 0 ? targets : fallback ? [fallback] : []) await slack.post(conversationId, { reply, buttons: [] });
    },
  });
  return { services: { store, desk, policy }, useDirectory: (next) => (directory = next) };
}
