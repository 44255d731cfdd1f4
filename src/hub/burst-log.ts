import type { Logger } from '../server/logger.js';

/** Quiet time that ends a burst: the next occurrence after it is logged again. */
export const DEFAULT_BURST_QUIET_MS = 10_000;

/**
 * A log line for something that comes in bursts (subscribers refused at capacity, accept errors,
 * store calls past their deadline): the first of a burst is logged, the rest only counted, and the
 * first of the next burst says how many the one before had. One line per burst, not thousands.
 */
export class BurstLog {
  private last = Number.NEGATIVE_INFINITY;
  private inBurst = 0;

  constructor(
    private readonly logger: Logger,
    private readonly message: string,
    private readonly quietMs = DEFAULT_BURST_QUIET_MS,
  ) {}

  /** One occurrence; `fields` are logged when it starts a burst. */
  note(fields: Record<string, unknown> = {}): void {
    const now = performance.now();
    if (now - this.last > this.quietMs) {
      const previous = this.inBurst;
      this.inBurst = 0;
      this.logger.warn(previous > 0 ? { ...fields, previousBurst: previous } : fields, this.message);
    }
    this.inBurst++;
    this.last = now;
  }
}
