/**
 * Connections in TIME_WAIT on the client's side hold ephemeral ports for a minute; with tens of
 * thousands of them (a run's reconnect storm, another program's tests) every connect the load
 * generator makes gets slower, as the kernel searches past them, until it fails. Before a run,
 * the bench waits for them to expire.
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

/**
 * Ephemeral ports held by TIME_WAIT connections: distinct local address and port pairs (the
 * server's side of many connections shares one pair, its listening address, and holds no
 * ephemeral port a client could want).
 */
export function clientTimeWait(): number {
  const [low, high] = read('/proc/sys/net/ipv4/ip_local_port_range').trim().split(/\s+/).map(Number);
  const held = new Set<string>();
  for (const line of read('/proc/net/tcp').split('\n')) {
    // "  sl  local_address rem_address   st …": 0: 0100007F:9C40 0100007F:1F90 06 …
    const fields = line.trim().split(/\s+/);
    if (fields[3] !== '06' || fields[1] === undefined) continue;
    const port = Number.parseInt(fields[1].split(':')[1] ?? '', 16);
    if (port >= (low ?? 32768) && port <= (high ?? 60999)) held.add(fields[1]);
  }
  return held.size;
}

/**
 * Waits (at most `maxMs`) until at most `limit` client-side connections are in TIME_WAIT.
 * Returns how long it waited, in ms.
 */
export async function waitForTimeWait(limit: number, maxMs: number): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < maxMs) {
    if (timeWaitTotal() <= limit || clientTimeWait() <= limit) break;
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
  return Date.now() - started;
}
