/** `text/event-stream`, with or without parameters, in any case, as MIME type parsing allows. */
const EVENT_STREAM = /^[\t\n\r ]*text\/event-stream[\t\n\r ]*(?:;|$)/i;

/** Whether a `Content-Type` value is `text/event-stream` (`text/event-stream;` and `; charset=utf-8` included). */
export function isEventStream(contentType: string | null): boolean {
  return contentType !== null && EVENT_STREAM.test(contentType);
}
