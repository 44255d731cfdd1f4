import type { IncomingHttpHeaders } from 'node:http';

/**
 * The reconciliation cursor of a subscription, as both generations send it: the `Last-Event-ID`
 * header (an EventSource's reconnection) wins; then draft-08's `last_event_id` query parameter, then
 * draft-07's `lastEventID` (while `draft07` is on). An empty value is no cursor (as in the reference
 * hub), not a request for the whole history (that is `earliest`).
 */
export function requestedLastEventId(
  headers: IncomingHttpHeaders,
  query: URLSearchParams,
  draft07 = true,
): string | undefined {
  const header = headers['last-event-id'];
  const fromHeader = Array.isArray(header) ? header[0] : header;
  return fromHeader || query.get('last_event_id') || (draft07 ? query.get('lastEventID') : null) || undefined;
}

/** The response headers naming where a replay started from: draft-08's and draft-07's names. */
export const LAST_EVENT_ID_RESPONSE_HEADERS = ['Mercure-Last-Event-ID', 'Last-Event-ID'] as const;

/**
 * The answer's cursor headers: the ID of the event preceding the first one sent, or `earliest`
 * (empty history, `earliest` asked, or an ID the history no longer has).
 */
export function lastEventIdHeaders(precedingId: string): Record<string, string> {
  return { 'mercure-last-event-id': precedingId, 'last-event-id': precedingId };
}
