/**
 * The digest timers fire at the configured local time in each subscription's time zone,
 * across daylight-saving shifts, and follow the subscriptions as zones come and go. Time is
 * simulated; node-cron is the real one.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startDigestTimers } from '../../src/channels/schedule/digest-timers.js';
import type { Cadence } from '../../src/ports.js';

const HOUR = 3_600_000;

function recorder(schedules: { cadence: Cadence; timeZone: string }[]) {
  const fired: string[] = [];
  return {
    fired,
    schedules,
    targets: {
      runDue: async (cadence: Cadence, timeZone: string, at: Date) => {
        fired.push(`${cadence} ${timeZone} ${at.toISOString()}`);
      },
      deliverPending: async () => undefined,
      schedules: async () => schedules,
    },
  };
}

describe('digest timers', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('fire at 09:00 local time in each zone, before and after the spring DST shift', async () => {
    vi.useFakeTimers({ now: new Date('2026-03-27T12:00:00Z') });
    const { fired, targets } = recorder([
      { cadence: 'daily', timeZone: 'Europe/Paris' },
      { cadence: 'daily', timeZone: 'America/New_York' },
      { cadence: 'weekly', timeZone: 'UTC' },
    ]);
    const timers = await startDigestTimers(targets, { dailyCron: '0 9 * * *', weeklyCron: '0 9 * * 1', sweepCron: '0 0 1 1 *', onError: (error) => { throw error; } });
    await vi.advanceTimersByTimeAsync(72 * HOUR);
    await timers.stop();
    expect(fired).toEqual([
      'daily America/New_York 2026-03-27T13:00:00.000Z',
      'daily Europe/Paris 2026-03-28T08:00:00.000Z',
      'daily America/New_York 2026-03-28T13:00:00.000Z',
      // Paris moves to summer time on Sunday 29 March: 09:00 is now 07:00 UTC.
      'daily Europe/Paris 2026-03-29T07:00:00.000Z',
      'daily America/New_York 2026-03-29T13:00:00.000Z',
      'daily Europe/Paris 2026-03-30T07:00:00.000Z',
      'weekly UTC 2026-03-30T09:00:00.000Z',
    ]);
  });

  it('pick up a new time zone on the next refresh and drop one nobody uses', async () => {
    vi.useFakeTimers({ now: new Date('2026-11-01T00:00:00Z') });
    const { fired, schedules, targets } = recorder([{ cadence: 'daily', timeZone: 'UTC' }]);
    const timers = await startDigestTimers(targets, { dailyCron: '0 9 * * *', weeklyCron: '0 9 * * 1', sweepCron: '0 0 1 1 *', onError: (error) => { throw error; } });
    schedules.splice(0, 1, { cadence: 'daily', timeZone: 'Asia/Tokyo' });
    await timers.refresh();
    await vi.advanceTimersByTimeAsync(24 * HOUR);
    await timers.stop();
    // 09:00 in Tokyo is midnight UTC; the UTC timer (09:00 UTC) is gone.
    expect(fired).toEqual(['daily Asia/Tokyo 2026-11-02T00:00:00.000Z']);
  });

  it('run a scheduled time that passed while no instance was up, within three hours, once', async () => {
    vi.useFakeTimers({ now: new Date('2026-11-02T10:30:20Z') });
    const late = recorder([
      { cadence: 'daily', timeZone: 'UTC' },
      { cadence: 'daily', timeZone: 'Europe/Paris' },
    ]);
    const timers = await startDigestTimers(late.targets, { dailyCron: '0 9 * * *', weeklyCron: '0 9 * * 1', sweepCron: '0 0 1 1 *', onError: (error) => { throw error; } });
    await vi.advanceTimersByTimeAsync(1_000);
    await timers.stop();
    // 09:00 UTC was 90 minutes ago; 09:00 in Paris (08:00 UTC) is two and a half hours ago.
    expect(late.fired).toEqual(['daily UTC 2026-11-02T09:00:00.000Z', 'daily Europe/Paris 2026-11-02T08:00:00.000Z']);

    vi.setSystemTime(new Date('2026-11-02T12:30:00Z'));
    const tooLate = recorder([{ cadence: 'daily', timeZone: 'Europe/Paris' }]);
    const again = await startDigestTimers(tooLate.targets, { dailyCron: '0 9 * * *', weeklyCron: '0 9 * * 1', sweepCron: '0 0 1 1 *', onError: (error) => { throw error; } });
    await vi.advanceTimersByTimeAsync(1_000);
    await again.stop();
    expect(tooLate.fired).toEqual([]);
  });

  it('catch up a six-field schedule on its own second', async () => {
    vi.useFakeTimers({ now: new Date('2026-11-02T10:30:20Z') });
    const late = recorder([{ cadence: 'daily', timeZone: 'UTC' }]);
    const timers = await startDigestTimers(late.targets, { dailyCron: '30 0 9 * * *', weeklyCron: '0 9 * * 1', sweepCron: '0 0 1 1 *', onError: (error) => { throw error; } });
    await vi.advanceTimersByTimeAsync(1_000);
    await timers.stop();
    expect(late.fired).toEqual(['daily UTC 2026-11-02T09:00:30.000Z']);
  });
});
