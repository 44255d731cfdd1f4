/** Requests to a hub known only by its URL (in another process, or on another node). */

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
