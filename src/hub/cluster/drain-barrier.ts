/** How long after its grace a shutdown stops waiting for workers to finish their publishes, in ms. */
const DRAIN_MARGIN_MS = 1000;

/**
 * A hub's shutdown as one: each worker whose publishes in flight have ended waits here until every
 * worker's have, or until the grace (and a second more) has run out; then all end their streams.
 */
export class DrainBarrier<Member> {
  private readonly waiting = new Map<Member, () => void>();
  private released = false;
  private readonly timer: NodeJS.Timeout;

  /** `members()`: the workers to wait for, now. */
  constructor(
    graceMs: number,
    private readonly members: () => Iterable<Member>,
  ) {
    this.timer = setTimeout(() => this.release(), graceMs + DRAIN_MARGIN_MS);
    this.timer.unref();
  }

  /** `member` is done with its publishes: `go` runs once every member is (at once when they are). */
  arrive(member: Member, go: () => void): void {
    if (this.released) {
      go();
      return;
    }
    this.waiting.set(member, go);
    this.releaseIfAll();
  }

  /** `member` is gone: the others may all be done now. */
  leave(member: Member): void {
    this.waiting.delete(member);
    this.releaseIfAll();
  }

  /** Stops the timer (the primary is closing). */
  dispose(): void {
    clearTimeout(this.timer);
  }

  private releaseIfAll(): void {
    for (const member of this.members()) if (!this.waiting.has(member)) return;
    this.release();
  }

  private release(): void {
    if (this.released) return;
    this.released = true;
    clearTimeout(this.timer);
    for (const go of this.waiting.values()) go();
    this.waiting.clear();
  }
}
