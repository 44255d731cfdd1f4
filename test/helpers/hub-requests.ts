/** Requests to a hub known only by its URL (in another process, or on another node). */
import { request } from 'node:http';

/** How long a publish may take before it counts as failed. */
const PUBLISH_TIMEOUT_MS = 10_000;

/** Publishes a form update; resolves to the status and body (never throws on a refused connection: status 0). */
export async function publishTo(
  hubUrl: string,
  bearer: string,
  fields: Record<string, string | string[]>,
): Promise<{ status: number; body: string }> {
  const body = new URLSearchParams();
  for (const [name, value] of Object.entries(fields)) {
    for (const item of Array.isArray(value) ? value : [value]) body.append(name, item);
  }
  try {
    const response = await fetch(hubUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${bearer}` },
      body,
      signal: AbortSignal.timeout(PUBLISH_TIMEOUT_MS),
    });
    return { status: response.status, body: await response.text() };
  } catch {
    return { status: 0, body: '' };
  }
}

/** A subscription URL for `topics` on a hub URL. */
export function subscribeUrl(hubUrl: string, topics: string[], params: Record<string, string> = {}): string {
  const url = new URL(hubUrl);
  for (const topic of topics) url.searchParams.append('topic', topic);
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  return url.toString();
}

/** POSTs `body`: half of it, then `meanwhile()`, then the rest 300 ms later; resolves to the answer. */
export function publishSlowly(url: string, bearer: string, body: string, meanwhile: () => void) {
  const half = Math.floor(body.length / 2);
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(url, {
      method: 'POST',
      agent: false,
      headers: {
        authorization: `Bearer ${bearer}`,
        'content-type': 'application/x-www-form-urlencoded',
        'content-length': String(body.length),
      },
    });
    req.on('error', reject);
    req.on('response', (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => {
        text += chunk.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.write(body.slice(0, half));
    setTimeout(meanwhile, 100);
    setTimeout(() => req.end(body.slice(half)), 400);
  });
}

/**
 * Publishes a form update on a connection of its own (fetch keeps one open and reuses it): with
 * `siar serve --workers`, each new connection may go to another worker. Resolves to the status and
 * body; status 0 when the connection failed.
 */
export function publishOnNewConnection(
  hubUrl: string,
  bearer: string,
  fields: Record<string, string>,
): Promise<{ status: number; body: string }> {
  const body = new URLSearchParams(fields).toString();
  return new Promise((resolve) => {
    const req = request(hubUrl, {
      method: 'POST',
      agent: false,
      timeout: PUBLISH_TIMEOUT_MS,
      headers: {
        authorization: `Bearer ${bearer}`,
        'content-type': 'application/x-www-form-urlencoded',
        'content-length': String(Buffer.byteLength(body)),
      },
    });
    req.on('error', () => resolve({ status: 0, body: '' }));
    req.on('timeout', () => req.destroy());
    req.on('response', (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => {
        text += chunk.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.on('error', () => resolve({ status: 0, body: '' }));
    });
    req.end(body);
  });
}
