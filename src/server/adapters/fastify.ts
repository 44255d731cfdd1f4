import type { IncomingMessage, ServerResponse } from 'node:http';
import { createEventStream } from '../create.js';
import type { EventStream, EventStreamOptions } from '../event-stream.js';

/** The part of a Fastify reply the adapter uses (Fastify stays a dependency of your app only). */
export interface FastifyReplyLike {
  raw: ServerResponse;
  request: { raw: IncomingMessage };
  hijack(): unknown;
}

/**
 * Opens an event stream on a Fastify reply. The reply is hijacked, so Fastify leaves the response
 * to the stream:
 *
 *     app.get('/events', (request, reply) => { const stream = eventStreamFromReply(reply); ... });
 */
export function eventStreamFromReply<State = undefined>(
  reply: FastifyReplyLike,
  options?: EventStreamOptions<State>,
): EventStream<State> {
  reply.hijack();
  return createEventStream(reply.request.raw, reply.raw, options);
}

interface FastifyInstanceLike {
  decorateReply(name: string, value: unknown): unknown;
}

/**
 * A Fastify plugin that adds `reply.eventStream(options?)`:
 *
 *     await app.register(siarFastify);
 *     app.get('/events', (request, reply) => { reply.eventStream().send({ data: 'hi' }); });
 */
export function siarFastify(
  instance: FastifyInstanceLike,
  _options: unknown,
  done: (error?: Error) => void,
): void {
  instance.decorateReply(
    'eventStream',
    function eventStream(this: FastifyReplyLike, options?: EventStreamOptions) {
      return eventStreamFromReply(this, options);
    },
  );
  done();
}
// Like fastify-plugin: the decoration reaches every route, not only those registered inside the plugin.
Object.assign(siarFastify, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'siar',
});
