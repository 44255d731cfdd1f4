import { HubError } from './errors.js';

/** The 503 of a hub shutting down. */
export function shuttingDown(): HubError {
  return new HubError('unavailable', 'The hub is shutting down. Try again in a moment.', {
    'retry-after': '2',
  });
}

/**
 * Whether the hub still takes requests, and the publishes `close()` waits for: from a publish
 * request's arrival (its body may still be coming) to its store's answer.
 */
export class HubLifecycle {
  #closing = false;
  private inFlight = 0;
  private drained: (() => void) | undefined;

  /** True once `close()` began. */
  get closing(): boolean {
    return this.#closing;
  }

  /** Throws the 503 of a hub shutting down once `close()` began. */
  refuseIfClosing(): void {
    if (this.#closing) throw shuttingDown();
  }

  /** A publish begins: `close()` waits for its end. */
  begin(): void {
    this.inFlight++;
  }

  /** A publish ends (stored or refused). */
  end(): void {
    this.inFlight--;
    if (this.inFlight === 0) this.drained?.();
  }

  /**
   * Stops taking requests; resolves once the publishes in flight have ended, or after `graceMs`.
   * Returns false, at once, when the hub was closing already.
   */
  async close(graceMs: number): Promise<boolean> {
    if (this.#closing) return false;
    this.#closing = true;
    if (this.inFlight > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, graceMs);
        this.drained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return true;
  }
}
