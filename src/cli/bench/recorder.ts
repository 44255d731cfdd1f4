/**
 * What the load generator counts: every event each subscriber receives, by sequence number
 * (so a lost or repeated event is found, per subscriber), and publish-to-receive latencies.
 */

/** One subscriber's received sequence numbers. */
export class Tally {
  seen = new Uint8Array(256);
  unique = 0;
  dups = 0;

  /** How many of the sequence numbers in [from, to) it has not received. */
  missing(from: number, to: number): number {
    let missing = 0;
    for (let seq = from; seq < to; seq++) if (seq >= this.seen.length || this.seen[seq] === 0) missing++;
    return missing;
  }
}

export interface LatencySummary {
  count: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export class Recorder {
  /** Events received once, over all subscribers. */
  unique = 0;
  /** Events received again by a subscriber that already had them. */
  dups = 0;
  /** Events whose data did not hold a sequence number. */
  malformed = 0;
  /** The time of the read being handled (set by each socket read, in ns of `clockNs`). */
  now = 0;
  /** Latencies are kept for sequence numbers from this one (Infinity: none). */
  recordFrom = Number.POSITIVE_INFINITY;
  private latencies = new Float64Array(1 << 16);
  private latencyCount = 0;
  private target = Number.POSITIVE_INFINITY;
  private reached: (() => void) | undefined;

  receive(tally: Tally, seq: number, timeNs: number): void {
    if (seq < 0) {
      this.malformed++;
      return;
    }
    if (seq >= tally.seen.length) {
      const grown = new Uint8Array(Math.max(seq + 1, tally.seen.length * 2));
      grown.set(tally.seen);
      tally.seen = grown;
    }
    if (tally.seen[seq] === 1) {
      tally.dups++;
      this.dups++;
      return;
    }
    tally.seen[seq] = 1;
    tally.unique++;
    this.unique++;
    if (seq >= this.recordFrom && timeNs >= 0) {
      if (this.latencyCount === this.latencies.length) {
        const grown = new Float64Array(this.latencies.length * 2);
        grown.set(this.latencies);
        this.latencies = grown;
      }
      this.latencies[this.latencyCount++] = this.now - timeNs;
    }
    if (this.unique >= this.target) this.reached?.();
  }

  /** Resolves true once `unique` reaches `target`, false after `timeoutMs`. */
  waitFor(target: number, timeoutMs: number): Promise<boolean> {
    if (this.unique >= target) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.target = Number.POSITIVE_INFINITY;
        this.reached = undefined;
        resolve(ok);
      };
      const timer = setTimeout(() => done(false), timeoutMs);
      this.target = target;
      this.reached = () => done(true);
    });
  }

  /** Percentiles of the latencies kept since the last call; starts a new set. */
  takeLatencies(): LatencySummary {
    const sorted = this.latencies.slice(0, this.latencyCount).sort();
    this.latencyCount = 0;
    const at = (q: number) =>
      sorted.length === 0
        ? Number.NaN
        : (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number) / 1e6;
    return {
      count: sorted.length,
      p50Ms: at(0.5),
      p99Ms: at(0.99),
      maxMs: sorted.length === 0 ? Number.NaN : (sorted[sorted.length - 1] as number) / 1e6,
    };
  }
}
