/**
 * Time as an input: node-cron timers that start digest runs. One timer per cadence and time
 * zone in use (the daily and weekly cron expressions are read in each subscription's zone,
 * DST included, by node-cron), kept in step with the subscriptions every 15 seconds, and a
 * sweep on the same beat that finishes deliveries a stopped instance left behind.
 */
import cron, { type ScheduledTask, type TaskContext } from 'node-cron';
import type { Cadence } from '../../ports.js';

/**
 * Every 15 seconds: a channel's first subscription in a new time zone gets its timer soon,
 * and a dead instance's deliveries are finished soon after its lease ends. Each sweep is two
 * small queries.
 */
const DEFAULT_SWEEP_CRON = '*/15 * * * * *';

/** How far back a missed scheduled time is still run. */
const CATCH_UP_MS = 3 * 60 * 60_000;

/** How late a digest tick may come and still run. */
const MISSED_TICK_TOLERANCE_MS = 5 * 60_000;

/** What the timers drive. */
export interface DigestTimerTargets {
  /** The schedule's time `at` came (now, or a while ago when it is caught up). */
  runDue(cadence: Cadence, timeZone: string, at: Date): Promise<unknown>;
  deliverPending(): Promise<unknown>;
  /** The cadence and time-zone pairs subscriptions use now. */
  schedules(): Promise<readonly { cadence: Cadence; timeZone: string }[]>;
}

/** How the timers are set. */
export interface DigestTimerOptions {
  readonly dailyCron: string;
  readonly weeklyCron: string;
  /** When to re-read subscriptions and sweep for unfinished deliveries (every 15 s by default). */
  readonly sweepCron?: string;
  readonly onError: (error: unknown, what: string) => void;
}

/** Running timers. */
export interface DigestTimers {
  /** Re-reads the subscriptions now (also done on every sweep). */
  refresh(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts the timers, a first refresh and a first sweep. */
export async function startDigestTimers(targets: DigestTimerTargets, options: DigestTimerOptions): Promise<DigestTimers> {
  const timers = new Map<string, ScheduledTask>();
  let stopped = false;
  // The returned promise lets node-cron's noOverlap skip a tick while the last one runs.
  const guard = (what: string, work: (context?: TaskContext) => Promise<unknown>) => async (context?: TaskContext) => {
    if (stopped) return;
    await work(context).catch((error: unknown) => options.onError(error, what));
  };
  const refresh = async () => {
    const wanted = new Map((await targets.schedules()).map((schedule) => [`${schedule.cadence} ${schedule.timeZone}`, schedule]));
    for (const [key, task] of timers) {
      if (wanted.has(key)) continue;
      await task.destroy();
      timers.delete(key);
    }
    for (const [key, { cadence, timeZone }] of wanted) {
      if (timers.has(key) || stopped) continue;
      const expression = cadence === 'daily' ? options.dailyCron : options.weeklyCron;
      timers.set(
        key,
        // The slot the tick belongs to, not the time it ran: a late 23:58 tick is still yesterday's.
        cron.schedule(expression, guard(`${cadence} digests (${timeZone})`, (context) => targets.runDue(cadence, timeZone, context?.date ?? new Date())), {
          timezone: timeZone,
          noOverlap: true,
          name: `digest ${key}`,
          // A tick that comes late (a busy event loop, a throttled CPU) still runs.
          missedExecutionTolerance: MISSED_TICK_TOLERANCE_MS,
        }),
      );
    }
  };
  const sweep = cron.schedule(
    options.sweepCron ?? DEFAULT_SWEEP_CRON,
    guard('digest sweep', async () => {
      await refresh();
      await targets.deliverPending();
    }),
    // deliverPending is shared and refresh is idempotent: an overlapping sweep does no harm.
    { name: 'digest sweep' },
  );
  /**
   * At start only: the last scheduled time of each timer in the past few hours is run late,
   * in case no instance was running then (a deploy at 09:00, say). Planning is idempotent, so
   * a time another instance did run changes nothing.
   */
  const catchUp = async () => {
    const now = Date.now();
    for (const [key, task] of timers) {
      const schedule = key.split(' ') as [Cadence, string];
      // Five-field expressions fire on the minute; six-field ones may name any second.
      const step = task.getPattern().trim().split(/\s+/).length > 5 ? 1_000 : 60_000;
      for (let at = now - (now % step); at > now - CATCH_UP_MS; at -= step) {
        if (!task.match(new Date(at))) continue;
        await targets.runDue(schedule[0], schedule[1], new Date(at));
        break;
      }
    }
  };
  await refresh().catch((error: unknown) => options.onError(error, 'digest schedule'));
  guard('digest catch-up', async () => {
    await catchUp();
    await targets.deliverPending();
  })();
  return {
    refresh,
    stop: async () => {
      stopped = true;
      await sweep.destroy();
      for (const task of timers.values()) await task.destroy();
      timers.clear();
    },
  };
}
