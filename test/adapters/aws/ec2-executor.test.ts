import {
  DescribeInstancesCommand,
  EC2Client,
  EC2ServiceException,
  ModifyInstanceAttributeCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  type DescribeInstancesCommandOutput,
  type InstanceStateName,
} from '@aws-sdk/client-ec2';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Ec2InstanceExecutor } from '../../../src/adapters/aws/ec2-executor.js';
import type { Clock, InstanceChange } from '../../../src/ports.js';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x' };
const accountId = '123456789012';

const resize: InstanceChange = {
  accountId,
  region: 'us-east-1',
  instanceId: 'i-0abc',
  action: 'modify',
  currentType: 'm5.2xlarge',
  targetType: 'm5.xlarge',
};
const idle: InstanceChange = { ...resize, instanceId: 'i-0idle', action: 'terminate', currentType: 't3.medium', targetType: undefined };

/** DescribeInstances' answer for one instance. */
const described = (change: InstanceChange, state: InstanceStateName, type = change.currentType): DescribeInstancesCommandOutput => ({
  $metadata: {},
  Reservations: [{ Instances: [{ InstanceId: change.instanceId, InstanceType: type as 'm5.large', State: { Name: state } }] }],
});

/** An EC2 error as the SDK raises it; the message carries an ARN, which must never be shown. */
const ec2Error = (name: string): EC2ServiceException =>
  new EC2ServiceException({
    name,
    $fault: 'client',
    message: `You are not authorized. arn:aws:iam::${accountId}:role/finops-bot`,
    $metadata: { httpStatusCode: 400 },
  });

/** A clock that moves one second per reading, so steps show their order. */
class TickingClock implements Clock {
  private tick = 0;
  now(): Date {
    this.tick += 1;
    return new Date(Date.UTC(2026, 10, 4, 9, 0, this.tick));
  }
}

describe('Ec2InstanceExecutor with a mocked EC2 client', () => {
  let mock: AwsClientStub<EC2Client>;
  let regions: string[];
  let executor: Ec2InstanceExecutor;
  const warnings: string[] = [];
  const make = (options: { stopWaitSeconds?: number } = {}) =>
    new Ec2InstanceExecutor({
      accountId,
      clock: new TickingClock(),
      clientFor: (region) => {
        regions.push(region);
        return new EC2Client({ region, credentials });
      },
      waitMinDelaySeconds: 0.01,
      stopWaitSeconds: options.stopWaitSeconds ?? 5,
      logger: { warn: (_obj, msg) => warnings.push(msg) },
    });
  /** The names of the commands sent, in order. */
  const sent = () => mock.calls().map((call) => (call.args[0] as object).constructor.name.replace(/Command$/, ''));

  beforeAll(() => {
    mock = mockClient(EC2Client);
  });
  afterAll(() => mock.restore());
  beforeEach(() => {
    mock.reset();
    regions = [];
    warnings.length = 0;
    executor = make();
  });

  describe('dryRun', () => {
    it('reports every call allowed when EC2 answers DryRunOperation, changing nothing', async () => {
      // Prepare
      mock.on(DescribeInstancesCommand).resolves(described(resize, 'running'));
      mock.on(StopInstancesCommand).rejects(ec2Error('DryRunOperation'));
      mock.on(ModifyInstanceAttributeCommand).rejects(ec2Error('DryRunOperation'));
      mock.on(StartInstancesCommand).rejects(ec2Error('DryRunOperation'));
      // Act
      const steps = await executor.dryRun(resize);
      // Assess
      expect(steps.map((s) => [s.step, s.ok])).toEqual([
        ['describe', true],
        ['stop', true],
        ['modify', true],
        ['start', true],
      ]);
      expect(steps[2]!.detail).toBe('EC2 would allow changing its type to m5.xlarge (ec2:ModifyInstanceAttribute).');
      expect(mock.commandCalls(DescribeInstancesCommand)[0]!.args[0].input).toEqual({ InstanceIds: ['i-0abc'] });
      expect(mock.commandCalls(StopInstancesCommand)[0]!.args[0].input).toEqual({ InstanceIds: ['i-0abc'], DryRun: true });
      expect(mock.commandCalls(ModifyInstanceAttributeCommand)[0]!.args[0].input).toEqual({ InstanceId: 'i-0abc', InstanceType: { Value: 'm5.xlarge' }, DryRun: true });
      expect(mock.commandCalls(StartInstancesCommand)[0]!.args[0].input).toEqual({ InstanceIds: ['i-0abc'], DryRun: true });
      expect(steps.map((s) => s.at.toISOString())).toEqual(['2026-11-04T09:00:01.000Z', '2026-11-04T09:00:02.000Z', '2026-11-04T09:00:03.000Z', '2026-11-04T09:00:04.000Z']);
      expect(regions).toEqual(['us-east-1']);
    });

    it('names the missing IAM action when a call is unauthorized, and still checks the others', async () => {
      // Prepare
      mock.on(DescribeInstancesCommand).resolves(described(resize, 'running'));
      mock.on(StopInstancesCommand).rejects(ec2Error('DryRunOperation'));
      mock.on(ModifyInstanceAttributeCommand).rejects(ec2Error('UnauthorizedOperation'));
      mock.on(StartInstancesCommand).rejects(ec2Error('DryRunOperation'));
      // Act
      const steps = await executor.dryRun(resize);
      // Assess
      expect(steps.map((s) => [s.step, s.ok])).toEqual([
        ['describe', true],
        ['stop', true],
        ['modify', false],
        ['start', true],
      ]);
      expect(steps[2]!.detail).toBe("EC2 refused ModifyInstanceAttribute (UnauthorizedOperation): the bot's role needs the IAM permission ec2:ModifyInstanceAttribute.");
      expect(steps.map((s) => s.detail).join(' ')).not.toMatch(/arn:aws/);
    });

    it('checks only stop and start for a terminate recommendation', async () => {
      // Prepare
      mock.on(DescribeInstancesCommand).resolves(described(idle, 'running'));
      mock.on(StopInstancesCommand).rejects(ec2Error('UnauthorizedOperation'));
      mock.on(StartInstancesCommand).rejects(ec2Error('DryRunOperation'));
      // Act
      const steps = await executor.dryRun(idle);
      // Assess
      expect(steps.map((s) => [s.step, s.ok])).toEqual([
        ['describe', true],
        ['stop', false],
        ['start', true],
      ]);
      expect(steps[1]!.detail).toMatch(/ec2:StopInstances/);
      expect(mock.commandCalls(ModifyInstanceAttributeCommand)).toHaveLength(0);
    });

    it('explains any other EC2 error by its name, never its message', async () => {
      // Prepare
      mock.on(DescribeInstancesCommand).resolves(described(resize, 'running'));
      mock.on(StopInstancesCommand).rejects(ec2Error('UnsupportedOperation'));
      mock.on(ModifyInstanceAttributeCommand).rejects(ec2Error('DryRunOperation'));
      mock.on(StartInstancesCommand).rejects(ec2Error('DryRunOperation'));
      // Act
      const steps = await executor.dryRun(resize);
      // Assess
      expect(steps[1]).toMatchObject({ step: 'stop', ok: false, detail: 'EC2 refused StopInstances (UnsupportedOperation).' });
    });

    it('stops at the check when the instance type changed since the recommendation', async () => {
      // Prepare
      mock.on(DescribeInstancesCommand).resolves(described(resize, 'running', 'm5.4xlarge'));
      // Act
      const steps = await executor.dryRun(resize);
      // Assess
      expect(steps).toEqual([
        { step: 'describe', ok: false, detail: 'The instance is now m5.4xlarge, not m5.2xlarge; the recommendation is out of date.', at: expect.any(Date) },
      ]);
      expect(sent()).toEqual(['DescribeInstances']);
    });
  });

  describe('apply', () => {
    it('stops, waits until stopped, changes the type and starts, in that order', async () => {
      // Prepare
      mock.on(DescribeInstancesCommand).resolvesOnce(described(resize, 'running')).resolvesOnce(described(resize, 'stopping')).resolves(described(resize, 'stopped'));
      mock.on(StopInstancesCommand).resolves({});
      mock.on(ModifyInstanceAttributeCommand).resolves({});
      mock.on(StartInstancesCommand).resolves({});
      // Act
      const steps = await executor.apply(resize);
      // Assess
      expect(steps.map((s) => [s.step, s.ok])).toEqual([
        ['describe', true],
        ['stop', true],
        ['wait-stopped', true],
        ['modify', true],
        ['start', true],
      ]);
      expect(sent()).toEqual(['DescribeInstances', 'StopInstances', 'DescribeInstances', 'DescribeInstances', 'ModifyInstanceAttribute', 'StartInstances']);
      expect(mock.commandCalls(StopInstancesCommand)[0]!.args[0].input).toEqual({ InstanceIds: ['i-0abc'] });
      expect(mock.commandCalls(ModifyInstanceAttributeCommand)[0]!.args[0].input).toEqual({ InstanceId: 'i-0abc', InstanceType: { Value: 'm5.xlarge' } });
      expect(steps[3]!.detail).toBe('Changed the instance type from m5.2xlarge to m5.xlarge.');
      expect(steps[4]!.detail).toBe('Started the instance as m5.xlarge.');
      const times = steps.map((s) => s.at.getTime());
      expect([...times].sort((a, b) => a - b)).toEqual(times);
    });

    it('starts the instance again when the type change fails after the stop', async () => {
      // Prepare
      mock.on(DescribeInstancesCommand).resolvesOnce(described(resize, 'running')).resolves(described(resize, 'stopped'));
      mock.on(StopInstancesCommand).resolves({});
      mock.on(ModifyInstanceAttributeCommand).rejects(ec2Error('InvalidParameterCombination'));
      mock.on(StartInstancesCommand).resolves({});
      // Act
      const steps = await executor.apply(resize);
      // Assess
      expect(steps.map((s) => [s.step, s.ok])).toEqual([
        ['describe', true],
        ['stop', true],
        ['wait-stopped', true],
        ['modify', false],
        ['restart', true],
      ]);
      expect(steps[3]!.detail).toBe('EC2 refused ModifyInstanceAttribute (InvalidParameterCombination).');
      expect(steps[4]!.detail).toBe('Started the instance again as m5.2xlarge, since the change did not go through.');
      expect(mock.commandCalls(StartInstancesCommand)).toHaveLength(1);
      expect(warnings).toEqual(['EC2 request failed']);
    });

    it('restarts the instance when it does not stop in time', async () => {
      // Prepare
      executor = make({ stopWaitSeconds: 0.1 });
      mock.on(DescribeInstancesCommand).resolvesOnce(described(resize, 'running')).resolves(described(resize, 'stopping'));
      mock.on(StopInstancesCommand).resolves({});
      mock.on(StartInstancesCommand).rejects(ec2Error('IncorrectInstanceState'));
      // Act
      const steps = await executor.apply(resize);
      // Assess
      expect(steps.map((s) => [s.step, s.ok])).toEqual([
        ['describe', true],
        ['stop', true],
        ['wait-stopped', false],
        ['restart', false],
      ]);
      expect(steps[2]!.detail).toBe('The instance did not stop within 0.1 s.');
      expect(steps[3]!.detail).toMatch(/IncorrectInstanceState.*start it by hand/);
      expect(mock.commandCalls(ModifyInstanceAttributeCommand)).toHaveLength(0);
    });

    it('hands over a `stopping` step before it asks EC2 to stop the instance, so a change cut off there is known to have stopped it', async () => {
      // Prepare
      mock.on(DescribeInstancesCommand).resolvesOnce(described(resize, 'running')).resolves(described(resize, 'stopped'));
      mock.on(StopInstancesCommand).resolves({});
      mock.on(ModifyInstanceAttributeCommand).resolves({});
      mock.on(StartInstancesCommand).resolves({});
      const seen: { step: string; stopsSoFar: number }[] = [];
      // Act
      const steps = await executor.apply(resize, async (step) => void seen.push({ step: step.step, stopsSoFar: mock.commandCalls(StopInstancesCommand).length }));
      // Assess
      expect(seen).toEqual([{ step: 'stopping', stopsSoFar: 0 }]);
      expect(steps.map((step) => step.step)).toEqual(['describe', 'stop', 'wait-stopped', 'modify', 'start']);
    });

    it('resuming a change cut off after the type change: only starts the instance, already of the new type', async () => {
      // Prepare
      mock.on(DescribeInstancesCommand).resolves(described({ ...resize, currentType: resize.targetType! }, 'stopped'));
      mock.on(StartInstancesCommand).resolves({});
      // Act
      const steps = await executor.apply({ ...resize, resume: true });
      // Assess
      expect(steps.map((step) => [step.step, step.ok])).toEqual([
        ['describe', true],
        ['stop', true],
        ['wait-stopped', true],
        ['modify', true],
        ['start', true],
      ]);
      expect(steps[3]!.detail).toBe(`The instance already has the type ${resize.targetType} (the earlier attempt changed it).`);
      expect(mock.commandCalls(ModifyInstanceAttributeCommand)).toHaveLength(0);
      expect(mock.commandCalls(StopInstancesCommand)).toHaveLength(0);
      expect(mock.commandCalls(StartInstancesCommand)).toHaveLength(1);
    });

    it('without a resume, an instance of another type than recommended is left alone as out of date', async () => {
      // Prepare
      mock.on(DescribeInstancesCommand).resolves(described({ ...resize, currentType: resize.targetType! }, 'stopped'));
      // Act
      const steps = await executor.apply(resize);
      // Assess
      expect(steps).toHaveLength(1);
      expect(steps[0]).toMatchObject({ step: 'describe', ok: false });
      expect(mock.commandCalls(StartInstancesCommand)).toHaveLength(0);
    });

    it('when the new type will not start, changes the type back and starts the instance as it was', async () => {
      // Prepare
      mock.on(DescribeInstancesCommand).resolvesOnce(described(resize, 'running')).resolves(described(resize, 'stopped'));
      mock.on(StopInstancesCommand).resolves({});
      mock.on(ModifyInstanceAttributeCommand).resolves({});
      mock.on(StartInstancesCommand).rejectsOnce(ec2Error('InsufficientInstanceCapacity')).resolves({});
      // Act
      const steps = await executor.apply(resize);
      // Assess
      expect(steps.map((step) => [step.step, step.ok])).toEqual([
        ['describe', true],
        ['stop', true],
        ['wait-stopped', true],
        ['modify', true],
        ['start', false],
        ['revert', true],
        ['restart', true],
      ]);
      expect(steps[4]!.detail).toMatch(/InsufficientInstanceCapacity/);
      expect(mock.commandCalls(ModifyInstanceAttributeCommand).map((call) => call.args[0].input.InstanceType?.Value)).toEqual([resize.targetType, resize.currentType]);
      expect(mock.commandCalls(StartInstancesCommand)).toHaveLength(2);
    });

    it('says the instance is left stopped, as the new type, when even changing back is refused', async () => {
      // Prepare
      mock.on(DescribeInstancesCommand).resolvesOnce(described(resize, 'running')).resolves(described(resize, 'stopped'));
      mock.on(StopInstancesCommand).resolves({});
      mock.on(ModifyInstanceAttributeCommand).resolvesOnce({}).rejects(ec2Error('IncorrectInstanceState'));
      mock.on(StartInstancesCommand).rejects(ec2Error('InsufficientInstanceCapacity'));
      // Act
      const steps = await executor.apply(resize);
      // Assess
      expect(steps.at(-1)).toMatchObject({ step: 'revert', ok: false });
      expect(steps.at(-1)!.detail).toMatch(/stopped, now as m5\.xlarge: start it by hand/);
    });

    it('only stops an instance recommended for termination, and says it can be started again', async () => {
      // Prepare
      mock.on(DescribeInstancesCommand).resolves(described(idle, 'running'));
      mock.on(StopInstancesCommand).resolves({});
      // Act
      const steps = await executor.apply(idle);
      // Assess
      expect(steps).toEqual([
        { step: 'describe', ok: true, detail: 'Instance i-0idle is running as t3.medium.', at: expect.any(Date) },
        { step: 'stop', ok: true, detail: 'Stopped the instance; it was not terminated, so it can be started again.', at: expect.any(Date) },
      ]);
      expect(sent()).toEqual(['DescribeInstances', 'StopInstances']);
    });

    it('leaves an instance that was already stopped stopped', async () => {
      // Prepare
      mock.on(DescribeInstancesCommand).resolves(described(resize, 'stopped'));
      mock.on(ModifyInstanceAttributeCommand).resolves({});
      // Act
      const steps = await executor.apply(resize);
      // Assess
      expect(steps.map((s) => [s.step, s.ok])).toEqual([
        ['describe', true],
        ['stop', true],
        ['wait-stopped', true],
        ['modify', true],
        ['start', true],
      ]);
      expect(steps[4]!.detail).toBe('The instance was stopped before the change, so the bot left it stopped.');
      expect(mock.commandCalls(StopInstancesCommand)).toHaveLength(0);
      expect(mock.commandCalls(StartInstancesCommand)).toHaveLength(0);
    });

    it('does not start an instance that was stopped before when the type change fails', async () => {
      // Prepare
      mock.on(DescribeInstancesCommand).resolves(described(resize, 'stopped'));
      mock.on(ModifyInstanceAttributeCommand).rejects(ec2Error('UnauthorizedOperation'));
      // Act
      const steps = await executor.apply(resize);
      // Assess
      expect(steps.map((s) => [s.step, s.ok])).toEqual([
        ['describe', true],
        ['stop', true],
        ['wait-stopped', true],
        ['modify', false],
      ]);
      expect(mock.commandCalls(StartInstancesCommand)).toHaveLength(0);
    });

    it('ends at a refused stop, without restarting anything', async () => {
      // Prepare
      mock.on(DescribeInstancesCommand).resolves(described(resize, 'running'));
      mock.on(StopInstancesCommand).rejects(ec2Error('UnauthorizedOperation'));
      // Act
      const steps = await executor.apply(resize);
      // Assess
      expect(steps.map((s) => [s.step, s.ok])).toEqual([
        ['describe', true],
        ['stop', false],
      ]);
      expect(steps[1]!.detail).toMatch(/ec2:StopInstances/);
      expect(sent()).toEqual(['DescribeInstances', 'StopInstances']);
    });

    it('does nothing when the instance type is out of date', async () => {
      // Prepare
      mock.on(DescribeInstancesCommand).resolves(described(resize, 'running', 'm5.large'));
      // Act
      const steps = await executor.apply(resize);
      // Assess
      expect(steps.map((s) => [s.step, s.ok, s.detail])).toEqual([
        ['describe', false, 'The instance is now m5.large, not m5.2xlarge; the recommendation is out of date.'],
      ]);
      expect(sent()).toEqual(['DescribeInstances']);
    });

    it('does nothing when the instance is gone', async () => {
      // Prepare
      mock.on(DescribeInstancesCommand).rejects(ec2Error('InvalidInstanceID.NotFound'));
      // Act
      const steps = await executor.apply(resize);
      // Assess
      expect(steps.map((s) => [s.step, s.ok, s.detail])).toEqual([['describe', false, 'EC2 has no instance i-0abc in us-east-1 (InvalidInstanceID.NotFound).']]);
    });

    it('throws for a modify change without a target type (a programmer error)', async () => {
      // Act + Assess
      await expect(executor.apply({ ...resize, targetType: undefined })).rejects.toThrow(TypeError);
      expect(sent()).toEqual([]);
    });
  });

  it.each([
    ['dryRun', (change: InstanceChange) => executor.dryRun(change)],
    ['apply', (change: InstanceChange) => executor.apply(change)],
  ])('%s refuses an instance of another account without calling EC2', async (_label, run) => {
    // Act
    const steps = await run({ ...resize, accountId: '999999999999' });
    // Assess
    expect(steps).toEqual([
      { step: 'account', ok: false, detail: 'The bot can only change instances in its own account (123456789012), not in 999999999999.', at: expect.any(Date) },
    ]);
    expect(sent()).toEqual([]);
    expect(regions).toEqual([]);
  });

  it('refuses a region that is not a region code (an unmapped name from Cost Explorer)', async () => {
    // Act
    const steps = await executor.dryRun({ ...resize, region: 'Moon Base (Tranquility)' });
    // Assess
    expect(steps.map((s) => [s.step, s.ok])).toEqual([['region', false]]);
    expect(sent()).toEqual([]);
  });

  it('builds one client per region and reuses it', async () => {
    // Prepare
    mock.on(DescribeInstancesCommand).resolves(described(resize, 'running', 'c5.large'));
    // Act
    await executor.dryRun(resize);
    await executor.dryRun({ ...resize, region: 'eu-west-1' });
    await executor.apply(resize);
    // Assess
    expect(regions).toEqual(['us-east-1', 'eu-west-1']);
  });
});
