/**
 * Old rows pruned now and then by whichever instance is writing: at most once an hour per
 * instance, in the background, with failures reported and never thrown into the write.
 */

/** How often an instance prunes. */
const PRUNE_EVERY_MS = 60 * 60 * 1000;

/** Calls `forgetBefore(now − keepMs)` at most hourly; `prune()` is called on every write. */
export class HourlyPruner {
  private lastPrune = 0;

  constructor(
    private readonly keepMs: number,
    private readonly forgetBefore: (before: Date) => Promise<unknown>,
    private readonly onError: (error: unknown) => void,
  ) {}

  prune(): void {
    const now = Date.now();
    if (now - this.lastPrune < PRUNE_EVERY_MS) return;
    this.lastPrune = now;
    void this.forgetBefore(new Date(now - this.keepMs)).catch(this.onError);
  }
}
