/**
 * Connections in TIME_WAIT on the client's side hold ephemeral ports for a minute; with tens of
 * thousands of them every connect the load generator makes gets slower, as the kernel searches
 * past them, until it fails. The load generator's own sockets close with a reset and leave none,
 * but should some be left, the bench waits for them to expire before a run.
 */
import { readFileSync } from 'node:fs';

function read(path: string): string {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return '';
  }
}

/** All TIME_WAIT connections of the machine (cheap: /proc/net/sockstat). */
function timeWaitTotal(): number {
  const match = read('/proc/net/sockstat').match(/^TCP:.* tw (\d+)/m);
  return match ? Number(match[1]) : 0;
}

/** An IPv4 address as /proc/net/tcp writes it (little-endian hex): 127.0.0.2 is 0200007F. */
function procAddress(address: string): string {
  return address
    .split('.')
    .reverse()
    .map((byte) => Number(byte).toString(16).padStart(2, '0').toUpperCase())
    .join('');
}

/** Connections in TIME_WAIT whose local address is one of `addresses` (the load generator's). */
export function clientTimeWait(addresses: readonly string[]): number {
  const ours = new Set(addresses.map(procAddress));
  let count = 0;
  for (const line of read('/proc/net/tcp').split('\n')) {
    // "  sl  local_address rem_address   st …": 0: 0200007F:9C40 0100007F:1F90 06 …
    const fields = line.trim().split(/\s+/);
    if (fields[3] === '06' && ours.has(fields[1]?.split(':')[0] ?? '')) count++;
  }
  return count;
}

/**
 * Waits (at most `maxMs`) until at most `limit` connections from `addresses` are in TIME_WAIT.
 * Returns how long it waited, in ms.
 */
export async function waitForTimeWait(
  addresses: readonly string[],
  limit: number,
  maxMs: number,
): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < maxMs) {
    if (timeWaitTotal() <= limit || clientTimeWait(addresses) <= limit) break;
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
  return Date.now() - started;
}
