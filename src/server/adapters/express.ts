import type { IncomingMessage, ServerResponse } from 'node:http';
import { createEventStream } from '../create.js';
import type { EventStream, EventStreamOptions } from '../event-stream.js';

type Next = (error?: unknown) => void;

/**
 * An Express (4 or 5) route handler that opens an event stream and hands it to `handler`:
 *
 *     app.get('/events', eventStreamHandler((stream, req) => { stream.send({ data: 'hi' }); }));
 *
 * An error thrown (or rejected) by `handler` before anything is sent goes to Express's `next`.
 */
export function eventStreamHandler<
  Req extends IncomingMessage,
  Res extends ServerResponse,
  State = undefined,
>(
  handler: (stream: EventStream<State>, req: Req, res: Res) => unknown,
  options?: EventStreamOptions<State> | ((req: Req) => EventStreamOptions<State>),
): (req: Req, res: Res, next: Next) => void {
  return (req, res, next) => {
    let stream: EventStream<State> | undefined;
    try {
      stream = createEventStream(req, res, typeof options === 'function' ? options(req) : options);
      const result = handler(stream, req, res);
      if (result instanceof Promise) result.catch((error: unknown) => fail(error));
    } catch (error) {
      fail(error);
    }
    function fail(error: unknown): void {
      if (!res.headersSent) next(error);
      else stream?.close();
    }
  };
}
