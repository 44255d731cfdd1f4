/** What the cluster tests read of a `siar serve --workers` hub: its /healthz, its /metrics, which worker served a stream. */
import type { HubAddress } from '../helpers/hub-process.js';
import { waitFor } from '../helpers/net.js';
import { openSse, type SseConnection } from '../helpers/sse-client.js';
import type { Teardown } from '../helpers/teardown.js';

/** How long the tests wait for figures to go round the workers (they are sent once a second). */
export const FIGURES_WAIT_MS = 10_000;

export interface Health {
  status: string;
  subscribers: number;
  worker?: number;
  workers?: Array<{ worker: number; pid: number; subscribers: number }>;
}

/** A page of the hub, from whichever worker takes the connection; undefined while none answers. */
async function read<T>(
  hub: HubAddress,
  path: string,
  parse: (response: Response) => Promise<T>,
): Promise<T | undefined> {
  try {
    return await parse(await fetch(`${hub.url}${path}`, { signal: AbortSignal.timeout(2000) }));
  } catch {
    return undefined;
  }
}

/** Reads a page of the hub until `accept` takes it (the figures of the other workers come once a second). */
async function readWhen<T>(
  hub: HubAddress,
  path: string,
  parse: (response: Response) => Promise<T>,
  accept: (value: T) => boolean,
  what: string,
): Promise<T> {
  const found = await waitFor(
    async () => {
      const value = await read(hub, path, parse);
      return value !== undefined && accept(value) ? { value } : undefined;
    },
    FIGURES_WAIT_MS,
    what,
  );
  return (found as { value: T }).value;
}

/** `/healthz`; undefined while no worker answers. */
export function health(hub: HubAddress): Promise<Health | undefined> {
  return read(hub, '/healthz', (response) => response.json() as Promise<Health>);
}

/** Polls /healthz until `accept` takes it. */
export function healthWhen(
  hub: HubAddress,
  accept: (health: Health) => boolean,
  what: string,
): Promise<Health> {
  return readWhen(hub, '/healthz', (response) => response.json() as Promise<Health>, accept, what);
}

/** Polls /metrics until `accept` takes its text. */
export function metricsWhen(
  hub: HubAddress,
  accept: (text: string) => boolean,
  what: string,
): Promise<string> {
  return readWhen(hub, '/metrics', (response) => response.text(), accept, what);
}

/**
 * Opens `count` streams of `url`, one after the other (node:cluster gives consecutive connections
 * to alternate workers); each is closed after the test.
 */
export async function openStreams(
  teardown: Teardown,
  url: string,
  count: number,
  headers?: Record<string, string>,
): Promise<SseConnection[]> {
  const connections: SseConnection[] = [];
  for (let i = 0; i < count; i++) {
    const connection = await openSse(url, { headers });
    teardown(() => connection.close());
    connections.push(connection);
  }
  return connections;
}

/** A sample's value in Prometheus text (`labels` as written, `{worker="1"}`); undefined when absent. */
export function metric(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name}${labels} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** The worker that served a stream (its `X-Siar-Worker` header). */
export function workerOf(connection: SseConnection): string {
  return String(connection.headers['x-siar-worker']);
}

/** Whether a process is still there. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
