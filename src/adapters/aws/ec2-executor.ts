/**
 * Carries an approved rightsizing change out on EC2 as an {@link InstanceExecutor}, one
 * reported step at a time, so a person can see exactly what the bot did and where it stopped.
 *
 * - A dry run first checks the instance still is what the recommendation says
 *   (DescribeInstances), then asks EC2 with `DryRun` whether stopping, changing the type and
 *   starting would be allowed: EC2 answers an allowed call with the error `DryRunOperation`.
 *   Every call is checked, so one dry run names every missing IAM permission.
 * - Applying a `modify` stops the instance, waits until it is stopped, changes its type and
 *   starts it again; a failure after the stop restarts the instance, so nothing is left
 *   stopped. A `terminate` only stops the instance: stopping can be undone, terminating cannot.
 *   An instance that was already stopped is left stopped.
 *
 * EC2's refusals are failed steps, never exceptions; only programmer errors throw. Step
 * sentences name the EC2 error code, never AWS's message text, which can carry ARNs.
 */
import {
  DescribeInstancesCommand,
  EC2Client,
  ModifyInstanceAttributeCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  waitUntilInstanceStopped,
  type EC2ClientConfig,
} from '@aws-sdk/client-ec2';
import { type Ec2Operation as Operation, explain, nameOf } from './ec2-errors.js';
import type { WarnLogger } from './paid-requests.js';
import { STOPPING_STEP } from '../../core/rightsizing.js';
import type { Clock, ExecutionStep, InstanceChange, InstanceExecutor } from '../../ports.js';

/** Attempts per EC2 request (first try included) when the client is built here. */
export const EC2_MAX_ATTEMPTS = 3;

/** Longest wait for an instance to stop, in seconds, unless configured otherwise. */
export const DEFAULT_STOP_WAIT_SECONDS = 600;

/** First delay between DescribeInstances polls while waiting for the stop, in seconds. */
export const DEFAULT_WAIT_MIN_DELAY_SECONDS = 5;

/**
 * Builds an EC2 client for `region` with the bot's defaults: standard retries and bounded
 * timeouts, as for the other AWS clients. The endpoint and credentials are left to the SDK's
 * chain; anything in `overrides` wins.
 */
export function createEc2Client(region: string, overrides: EC2ClientConfig = {}): EC2Client {
  return new EC2Client({
    region,
    maxAttempts: EC2_MAX_ATTEMPTS,
    retryMode: 'standard',
    requestHandler: { requestTimeout: 30_000, connectionTimeout: 5_000 },
    ...overrides,
  });
}

/** What {@link Ec2InstanceExecutor} needs; everything has a default. */
export interface Ec2InstanceExecutorOptions {
  /** The client for a region (tests); by default {@link createEc2Client}. Called once per region. */
  clientFor?: (region: string) => EC2Client;
  /** Stamps each step. */
  clock?: Clock;
  /** The bot's own account: a change for another account is refused without calling EC2. */
  accountId?: string;
  /** Longest wait for the instance to stop, in seconds (default 600). */
  stopWaitSeconds?: number;
  /** First delay between polls while waiting, in seconds (default 5; tests use a few ms). */
  waitMinDelaySeconds?: number;
  logger?: WarnLogger;
}


/** What DescribeInstances found; or the failed step. */
type Found = { readonly ok: true; readonly state: string; readonly type: string; readonly step: ExecutionStep } | { readonly ok: false; readonly step: ExecutionStep };

const REGION_CODE = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const STOPPED = new Set(['stopped', 'stopping']);
const GONE = new Set(['terminated', 'shutting-down']);

/** Changes EC2 instances as approved recommendations say; see the module comment. */
export class Ec2InstanceExecutor implements InstanceExecutor {
  private readonly clients = new Map<string, EC2Client>();
  private readonly clientFor: (region: string) => EC2Client;
  private readonly clock: Clock;
  private readonly accountId: string | undefined;
  private readonly stopWaitSeconds: number;
  private readonly waitMinDelaySeconds: number;
  private readonly logger: WarnLogger | undefined;

  constructor(options: Ec2InstanceExecutorOptions = {}) {
    this.clientFor = options.clientFor ?? ((region) => createEc2Client(region));
    this.clock = options.clock ?? { now: () => new Date() };
    this.accountId = options.accountId;
    this.stopWaitSeconds = options.stopWaitSeconds ?? DEFAULT_STOP_WAIT_SECONDS;
    this.waitMinDelaySeconds = options.waitMinDelaySeconds ?? DEFAULT_WAIT_MIN_DELAY_SECONDS;
    this.logger = options.logger;
    if (!(this.waitMinDelaySeconds > 0 && this.stopWaitSeconds > this.waitMinDelaySeconds)) {
      throw new RangeError('stopWaitSeconds must be greater than waitMinDelaySeconds, which must be positive');
    }
  }

  /** Checks the instance, then asks EC2 with DryRun about every call the change needs; changes nothing. */
  async dryRun(change: InstanceChange): Promise<ExecutionStep[]> {
    checkChange(change);
    const refused = this.refuse(change);
    if (refused) return [refused];
    const client = this.client(change.region);
    const found = await this.describe(client, change);
    const steps = [found.step];
    if (!found.ok) return steps;
    const ids = { InstanceIds: [change.instanceId], DryRun: true };
    const check = (step: string, operation: Operation, what: string, send: () => Promise<unknown>) => this.dryRunStep(change, step, operation, what, send);
    steps.push(await check('stop', 'StopInstances', 'stopping the instance', () => client.send(new StopInstancesCommand(ids))));
    if (change.action === 'modify') {
      const modify = new ModifyInstanceAttributeCommand({ InstanceId: change.instanceId, InstanceType: { Value: change.targetType }, DryRun: true });
      steps.push(await check('modify', 'ModifyInstanceAttribute', `changing its type to ${change.targetType}`, () => client.send(modify)));
    }
    steps.push(await check('start', 'StartInstances', 'starting the instance', () => client.send(new StartInstancesCommand(ids))));
    return steps;
  }

  /** Makes the change; the first failed step ends it (after restarting an instance the bot stopped). */
  async apply(change: InstanceChange, progress?: (step: ExecutionStep) => Promise<void>): Promise<ExecutionStep[]> {
    checkChange(change);
    const refused = this.refuse(change);
    if (refused) return [refused];
    const client = this.client(change.region);
    const found = await this.describe(client, change);
    const steps = [found.step];
    if (!found.ok) return steps;
    const alreadyStopped = STOPPED.has(found.state);
    // Stopped by the bot's own attempt that a restart cut off: changed and started again.
    const resumed = alreadyStopped && change.resume === true && change.action === 'modify';
    const wasStopped = alreadyStopped && !resumed;
    const ids = { InstanceIds: [change.instanceId] };

    if (alreadyStopped) {
      const detail = resumed
        ? `The instance is ${found.state}, by the bot's earlier attempt that was cut off; it will be started again.`
        : change.action === 'terminate'
          ? `The instance was already ${found.state}.`
          : `The instance was already ${found.state}; the bot will leave it stopped.`;
      steps.push(this.step('stop', true, detail));
    } else {
      // Kept before EC2 is asked, so whoever takes over a change cut off here starts it again.
      await progress?.(this.step(STOPPING_STEP, true, 'Asking EC2 to stop the instance.'));
      const stopped = await this.call('StopInstances', () => client.send(new StopInstancesCommand(ids)));
      const detail = change.action === 'terminate'
        ? 'Stopped the instance; it was not terminated, so it can be started again.'
        : 'Asked EC2 to stop the instance.';
      steps.push(stopped === undefined ? this.step('stop', true, detail) : this.failed('stop', 'StopInstances', stopped, change));
      if (stopped !== undefined) return steps;
    }
    if (change.action === 'terminate') return steps;

    const waited = await this.waitStopped(client, change.instanceId);
    steps.push(waited);
    if (!waited.ok) return this.restartIfStopped(client, change, steps, wasStopped);

    // The earlier attempt got as far as the new type: only the start is left.
    const modify = new ModifyInstanceAttributeCommand({ InstanceId: change.instanceId, InstanceType: { Value: change.targetType } });
    const modified = found.type === change.targetType ? undefined : await this.call('ModifyInstanceAttribute', () => client.send(modify));
    if (modified !== undefined) {
      steps.push(this.failed('modify', 'ModifyInstanceAttribute', modified, change));
      return this.restartIfStopped(client, change, steps, wasStopped);
    }
    steps.push(
      this.step('modify', true, found.type === change.targetType ? `The instance already has the type ${change.targetType} (the earlier attempt changed it).` : `Changed the instance type from ${change.currentType} to ${change.targetType}.`),
    );

    if (wasStopped) {
      steps.push(this.step('start', true, 'The instance was stopped before the change, so the bot left it stopped.'));
      return steps;
    }
    const started = await this.call('StartInstances', () => client.send(new StartInstancesCommand(ids)));
    if (started === undefined) {
      steps.push(this.step('start', true, `Started the instance as ${change.targetType}.`));
      return steps;
    }
    // The new type would not start (no capacity for it, say): back to the old type, and started.
    steps.push(this.failed('start', 'StartInstances', started, change));
    return this.revert(client, change, steps);
  }

  /** After the new type failed to start: the old type again, then a start (each its own step). */
  private async revert(client: EC2Client, change: InstanceChange, steps: ExecutionStep[]): Promise<ExecutionStep[]> {
    const back = new ModifyInstanceAttributeCommand({ InstanceId: change.instanceId, InstanceType: { Value: change.currentType } });
    const reverted = await this.call('ModifyInstanceAttribute', () => client.send(back));
    if (reverted !== undefined) {
      steps.push(this.failed('revert', 'ModifyInstanceAttribute', reverted, change, ` It is stopped, now as ${change.targetType}: start it by hand.`));
      return steps;
    }
    steps.push(this.step('revert', true, `Changed the type back to ${change.currentType}.`));
    return this.restartIfStopped(client, change, steps, false);
  }

  /** After a failure that followed the bot's own stop: starts the instance again (its own step). */
  private async restartIfStopped(client: EC2Client, change: InstanceChange, steps: ExecutionStep[], wasStopped: boolean): Promise<ExecutionStep[]> {
    if (wasStopped) return steps;
    const started = await this.call('StartInstances', () => client.send(new StartInstancesCommand({ InstanceIds: [change.instanceId] })));
    steps.push(
      started === undefined
        ? this.step('restart', true, `Started the instance again as ${change.currentType}, since the change did not go through.`)
        : this.failed('restart', 'StartInstances', started, change, ' The instance may be left stopped: start it by hand.'),
    );
    return steps;
  }

  /** A failed step for a change the bot must not make; undefined when it may go ahead. */
  private refuse(change: InstanceChange): ExecutionStep | undefined {
    if (this.accountId !== undefined && change.accountId !== '' && change.accountId !== this.accountId) {
      return this.step('account', false, `The bot can only change instances in its own account (${this.accountId}), not in ${change.accountId}.`);
    }
    if (!REGION_CODE.test(change.region)) {
      return this.step('region', false, `"${change.region}" is not an AWS region code the bot can call EC2 in.`);
    }
    return undefined;
  }

  /** DescribeInstances: the instance exists, is not terminated, and still has the recommendation's type. */
  private async describe(client: EC2Client, change: InstanceChange): Promise<Found> {
    let output;
    try {
      output = await client.send(new DescribeInstancesCommand({ InstanceIds: [change.instanceId] }));
    } catch (error) {
      return { ok: false, step: this.failed('describe', 'DescribeInstances', error, change) };
    }
    const instances = (output.Reservations ?? []).flatMap((r) => r.Instances ?? []);
    const instance = instances.find((i) => i.InstanceId === change.instanceId);
    const state = instance?.State?.Name ?? 'unknown';
    if (!instance || GONE.has(state)) {
      const detail = instance ? `Instance ${change.instanceId} is ${state}; there is nothing to change.` : `EC2 has no instance ${change.instanceId} in ${change.region}.`;
      return { ok: false, step: this.step('describe', false, detail) };
    }
    // Resuming, the earlier attempt may have changed the type already.
    const resumedType = change.resume === true && instance.InstanceType === change.targetType;
    if (instance.InstanceType !== change.currentType && !resumedType) {
      const detail = `The instance is now ${instance.InstanceType ?? 'of an unknown type'}, not ${change.currentType}; the recommendation is out of date.`;
      return { ok: false, step: this.step('describe', false, detail) };
    }
    return { ok: true, state, type: instance.InstanceType!, step: this.step('describe', true, `Instance ${change.instanceId} is ${state} as ${instance.InstanceType}.`) };
  }

  /** One DryRun call: `DryRunOperation` means allowed. */
  private async dryRunStep(change: InstanceChange, step: string, operation: Operation, what: string, send: () => Promise<unknown>): Promise<ExecutionStep> {
    const error = await this.call(operation, send);
    if (error === undefined) return this.step(step, false, `EC2 did not confirm the dry run of ${operation} (no DryRunOperation answer).`);
    if (nameOf(error) === 'DryRunOperation') return this.step(step, true, `EC2 would allow ${what} (ec2:${operation}).`);
    return this.failed(step, operation, error, change);
  }

  /** Waits until EC2 reports the instance stopped. */
  private async waitStopped(client: EC2Client, instanceId: string): Promise<ExecutionStep> {
    try {
      await waitUntilInstanceStopped(
        { client, maxWaitTime: this.stopWaitSeconds, minDelay: this.waitMinDelaySeconds, maxDelay: Math.max(this.waitMinDelaySeconds, 30) },
        { InstanceIds: [instanceId] },
      );
      return this.step('wait-stopped', true, 'The instance is stopped.');
    } catch (error) {
      this.logger?.warn({ operation: 'waitUntilInstanceStopped', instanceId, error: nameOf(error) }, 'EC2 instance did not stop');
      const detail = nameOf(error) === 'TimeoutError'
        ? `The instance did not stop within ${this.stopWaitSeconds} s.`
        : 'The instance did not reach the stopped state (it was started or terminated meanwhile, or could not be described).';
      return this.step('wait-stopped', false, detail);
    }
  }

  /** Sends a command; the error it failed with, or undefined on success. */
  private async call(operation: Operation, send: () => Promise<unknown>): Promise<unknown> {
    try {
      await send();
      return undefined;
    } catch (error) {
      if (nameOf(error) !== 'DryRunOperation') this.logger?.warn({ operation, error: nameOf(error) }, 'EC2 request failed');
      return error ?? new Error('unknown');
    }
  }

  private failed(step: string, operation: Operation, error: unknown, change: InstanceChange, suffix = ''): ExecutionStep {
    return this.step(step, false, explain(operation, error, change) + suffix);
  }

  private step(step: string, ok: boolean, detail: string): ExecutionStep {
    return { step, ok, detail, at: this.clock.now() };
  }

  private client(region: string): EC2Client {
    let client = this.clients.get(region);
    if (!client) {
      client = this.clientFor(region);
      this.clients.set(region, client);
    }
    return client;
  }
}

/** Programmer errors: a change EC2 could never be asked for. */
function checkChange(change: InstanceChange): void {
  if (change.action === 'modify' && !change.targetType) throw new TypeError(`a modify change needs a target type (${change.instanceId})`);
  if (!change.instanceId) throw new TypeError('a change needs an instance id');
}
