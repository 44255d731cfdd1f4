import type { HeadersLike } from './types.js';

const utf8 = new TextEncoder();

/** Turns `headers` into a plain object with lowercase names; throws a `TypeError` on an invalid name or value. */
export function normalizeHeaders(headers: HeadersLike | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  if (headers === undefined) return result;
  new Headers(headers as HeadersInit).forEach((value, name) => {
    result[name] = value;
  });
  return result;
}

/**
 * A header value holds bytes, and fetch takes it as a "byte string" (one character per byte), so a
 * last event ID is sent as its UTF-8 bytes, as the HTML standard says, rather than mangled or refused.
 */
function utf8ByteString(value: string): string {
  const bytes = utf8.encode(value);
  let result = '';
  for (let i = 0; i < bytes.length; i++) result += String.fromCharCode(bytes[i] as number);
  return result;
}

/**
 * The headers of an event-stream request: the user's, then `Accept: text/event-stream` and
 * `Cache-Control: no-cache` (over the user's when `force` is set, as EventSource does), and
 * `Last-Event-ID` when `lastEventId` is not empty (always the client's own).
 */
export function eventStreamHeaders(
  user: Record<string, string>,
  lastEventId: string,
  force: boolean,
): Record<string, string> {
  const headers: Record<string, string> = { ...user };
  if (force || headers.accept === undefined) headers.accept = 'text/event-stream';
  if (force || headers['cache-control'] === undefined) headers['cache-control'] = 'no-cache';
  delete headers['last-event-id'];
  if (lastEventId !== '') headers['last-event-id'] = utf8ByteString(lastEventId);
  return headers;
}
