/**
 * The event data the load generator publishes: `<sequence number> <publish time> xxx…`, padded
 * to a fixed size. The time is the load generator's own `process.hrtime.bigint()`, in ns since it
 * started, so the receiving side (the same process) measures publish-to-receive on one clock.
 */

const started = process.hrtime.bigint();

/** Nanoseconds since this process started, on the monotonic clock. */
export function clockNs(): number {
  return Number(process.hrtime.bigint() - started);
}

/** The data of update `seq`, published at `timeNs`, `size` bytes long (ASCII). */
export function payload(seq: number, timeNs: number, size: number): string {
  const head = `${seq} ${timeNs} `;
  return size > head.length ? head + 'x'.repeat(size - head.length) : head;
}
