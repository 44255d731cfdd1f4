import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Hub } from './hub.js';

/** The parts of Fastify the plugin uses (Fastify stays a dependency of your app only). */
interface FastifyScope {
  removeAllContentTypeParsers(): void;
  addContentTypeParser(
    type: string,
    parser: (request: unknown, payload: unknown, done: (error: null) => void) => void,
  ): void;
  all(
    path: string,
    handler: (request: { raw: IncomingMessage }, reply: { raw: ServerResponse; hijack(): void }) => void,
  ): void;
}

/**
 * A Fastify plugin that serves a hub at `/.well-known/mercure` (and its subscriptions API):
 *
 *     await app.register(siarHubFastify, { hub });
 *
 * Its routes live in their own scope, where Fastify leaves every body unread for the hub (the app's
 * other routes keep their parsers) and the hub answers on the raw response.
 */
export async function siarHubFastify(scope: FastifyScope, options: { hub: Hub }): Promise<void> {
  const { hub } = options;
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser('*', (_request, _payload, done) => done(null));
  const toHub = (request: { raw: IncomingMessage }, reply: { raw: ServerResponse; hijack(): void }) => {
    reply.hijack();
    hub.handler(request.raw, reply.raw);
  };
  scope.all('/.well-known/mercure', toHub);
  scope.all('/.well-known/mercure/*', toHub);
}
