/** The queue that keeps answering behind acknowledging. */
import { describe, expect, it } from 'vitest';
import { WorkQueue } from '../../src/channels/work-queue.js';

describe('WorkQueue', () => {
  it('runs at most `concurrency` jobs at once, in arrival order', async () => {
    const queue = new WorkQueue(2);
    let running = 0;
    let peak = 0;
    const started: number[] = [];
    const jobs = Array.from({ length: 7 }, (_, index) =>
      queue.run(async () => {
        started.push(index);
        running += 1;
        peak = Math.max(peak, running);
        await new Promise((resolve) => setTimeout(resolve, 5));
        running -= 1;
        return index * 10;
      }),
    );
    expect(await Promise.all(jobs)).toEqual([0, 10, 20, 30, 40, 50, 60]);
    expect(peak).toBe(2);
    expect(started).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(queue.size).toEqual({ running: 0, waiting: 0 });
  });

  it('passes a failure to its caller and carries on with the rest', async () => {
    const queue = new WorkQueue(1);
    const failing = queue.run(async () => {
      throw new Error('no answer');
    });
    const next = queue.run(async () => 'answered');
    await expect(failing).rejects.toThrow('no answer');
    expect(await next).toBe('answered');
  });

  it('lets I/O that is already waiting go first: work starts on a later turn of the event loop', async () => {
    const queue = new WorkQueue(4);
    const order: string[] = [];
    const job = queue.run(async () => {
      order.push('work');
    });
    order.push('caller continues');
    await job;
    expect(order).toEqual(['caller continues', 'work']);
  });

  it('reports when everything queued has finished, or that time ran out', async () => {
    const queue = new WorkQueue(1);
    expect(await queue.idle(0)).toBe(true);
    const finished: number[] = [];
    for (const index of [1, 2, 3]) void queue.run(async () => {
      await new Promise((resolve) => setTimeout(resolve, 30));
      finished.push(index);
    });
    expect(await queue.idle(10)).toBe(false);
    expect(await queue.idle(5_000)).toBe(true);
    expect(finished).toEqual([1, 2, 3]);
  });

  it('refuses a concurrency that is not a positive integer', () => {
    expect(() => new WorkQueue(0)).toThrow('positive integer');
  });
});
