import { createEventStreamResponse, type EventStreamResponseOptions } from '../create.js';
import type { EventStream } from '../event-stream.js';
import { stderrLogger } from '../logger.js';

/** The part of a Hono context the adapter uses (Hono stays a dependency of your app only). */
export interface HonoContextLike {
  req: { raw: Request };
  /** The runtime's bindings: on Deno, Deno.serve's handler info, whose `completed` ends the stream. */
  env?: unknown;
}

function completedOf(env: unknown): PromiseLike<unknown> | undefined {
  const completed = (env as { completed?: unknown } | undefined)?.completed;
  return typeof (completed as PromiseLike<unknown> | undefined)?.then === 'function'
    ? (completed as PromiseLike<unknown>)
    : undefined;
}

/**
 * Answers a Hono request with an event stream and hands the stream to `handler`:
 *
 *     app.get('/events', (c) => honoEventStream(c, (stream) => { stream.send({ data: 'hi' }); }));
 *
 * Works on every runtime Hono runs on (Node.js through @hono/node-server, Bun, Deno, Workers).
 */
export function honoEventStream<State = undefined>(
  c: HonoContextLike,
  handler: (stream: EventStream<State>) => unknown,
  options?: EventStreamResponseOptions<State>,
): Response {
  const completed = options?.completed ?? completedOf(c.env);
  const stream = createEventStreamResponse(c.req.raw, completed ? { ...options, completed } : options);
  Promise.resolve()
    .then(() => handler(stream))
    .catch((error: unknown) => {
      (options?.logger ?? stderrLogger).error(
        { error: String(error) },
        'The event stream handler failed; the stream was closed.',
      );
      stream.close();
    });
  return stream.response;
}
