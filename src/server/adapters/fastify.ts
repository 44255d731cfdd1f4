import type { IncomingMessage, ServerResponse } from 'node:http';
// Only so that the augmentation below finds Fastify when siar is built: tsc emits nothing for it.
import type {} from 'fastify';
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

// The type of what the plugin adds, for an app that has Fastify (an app without it never sees this
// augmentation: TypeScript leaves an augmentation of a module it cannot find alone).
declare module 'fastify' {
  interface FastifyReply {
    /**
     * Opens an event stream on this reply, as `eventStreamFromReply(reply, options)` does: the reply is
     * hijacked, status 200 and the SSE headers go out at once. Added by the `siarFastify` plugin.
     */
    eventStream<State = undefined>(options?: EventStreamOptions<State>): EventStream<State>;
  }
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
