/**
 * Answering runs behind acknowledging. A burst of requests must all be acknowledged within
 * the chat platform's deadline, but answering one (database queries, rendering, posting)
 * takes far longer than acknowledging it, and the embedded database even runs its queries on
 * this thread. So answers are worked on a few at a time, each begun on a fresh turn of the
 * event loop: requests that have arrived meanwhile are read and acknowledged first.
 */

/** Runs async work at most `concurrency` at a time, in arrival order. */
export class WorkQueue {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly concurrency: number) {
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error('concurrency must be a positive integer');
  }

  /** Resolves or rejects as `work` does, once it has had its turn. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    await new Promise<void>((resolve) => {
      this.waiting.push(resolve);
      this.startNext();
    });
    try {
      return await work();
    } finally {
      this.running -= 1;
      this.startNext();
    }
  }

  /** Resolves true once nothing is running or waiting, or false after `timeoutMs`. */
  async idle(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.running + this.waiting.length > 0) {
      if (Date.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return true;
  }

  /** Work started and not yet finished, and work waiting for its turn. */
  get size(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }

  private startNext(): void {
    while (this.running < this.concurrency && this.waiting.length > 0) {
      const next = this.waiting.shift()!;
      this.running += 1;
      // setImmediate runs after the poll phase: connections that are ready are read first.
      setImmediate(next);
    }
  }
}
