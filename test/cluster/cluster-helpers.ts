/** What the cluster tests read of a `siar serve --workers` hub: its /healthz, its /metrics, which worker served a stream. */
import type { HubAddress } from '../helpers/hub-process.js';
import { waitFor } from '../helpers/net.js';
import type { SseConnection } from '../helpers/sse-client.js';

/** How long the tests wait for figures to go round the workers (they are sent once a second). */
export const FIGURES_WAIT_MS = 10_000;

export interface Health {
  status: string;
  subscribers: number;
  worker?: number;
  workers?: Array<{ worker: number; pid: number; subscribers: number }>;
}

/** `/healthz`, from whichever worker takes the connection; undefined while none answers. */
export async function health(hub: HubAddress): Promise<Health | undefined> {
  try {
    const response = await fetch(`${hub.url}/healthz`, { signal: AbortSignal.timeout(2000) });
    return (await response.json()) as Health;
  } catch {
    return undefined;
  }
}

/** Polls /healthz until `accept` takes it. */
export function healthWhen(
  hub: HubAddress,
  accept: (health: Health) => boolean,
  what: string,
): Promise<Health> {
  return waitFor(
    async () => {
      const answer = await health(hub);
      return answer !== undefined && accept(answer) ? answer : undefined;
    },
    FIGURES_WAIT_MS,
    what,
  ) as Promise<Health>;
}

/** Polls /metrics until `accept` takes its text. */
export function metricsWhen(
  hub: HubAddress,
  accept: (text: string) => boolean,
  what: string,
): Promise<string> {
  return waitFor(
    async () => {
      try {
        const text = await (await fetch(`${hub.url}/metrics`, { signal: AbortSignal.timeout(2000) })).text();
        return accept(text) ? text : undefined;
      } catch {
        return undefined;
      }
    },
    FIGURES_WAIT_MS,
    what,
  ) as Promise<string>;
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
