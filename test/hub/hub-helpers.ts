import { createServer, type Server } from 'node:http';
import { createHub, createToken, type Hub, type HubOptions, type MercureClaim } from '../../src/hub/index.js';
import { silentLogger } from '../../src/server/index.js';
import { closeServer, listen } from '../helpers/net.js';

/** The HMAC secret of test hubs. */
export const TEST_KEY = 'siar-test-secret-that-is-long-enough-for-hs256';

export interface TestHub {
  hub: Hub;
  server: Server;
  /** Base URL of the server, e.g. http://127.0.0.1:1234 */
  url: string;
  /** The hub's URL: `${url}/.well-known/mercure`. */
  hubUrl: string;
  /** A URL subscribing to `topics`, with extra query parameters. */
  subscribeUrl(topics: string[], params?: Record<string, string>): string;
  /** Publishes with a token allowed to publish anywhere; returns the response. */
  publish(fields: Record<string, string | string[]>, token?: string): Promise<Response>;
  close(): Promise<void>;
}

/** Signs a token with the test key. */
export function token(
  mercure: MercureClaim,
  options: Parameters<typeof createToken>[2] = {},
): Promise<string> {
  return createToken(mercure, TEST_KEY, options);
}

/** Starts a hub on 127.0.0.1 (port 0) with the test key, quiet logs, and the given options. */
export async function startHub(options: HubOptions = {}): Promise<TestHub> {
  const hub = createHub({ publisherJwt: { key: TEST_KEY }, logger: silentLogger, ...options });
  await hub.ready();
  const server = createServer(hub.handler);
  const url = await listen(server);
  const hubUrl = `${url}/.well-known/mercure`;
  const publisherToken = await token({ publish: ['*'] });
  return {
    hub,
    server,
    url,
    hubUrl,
    subscribeUrl(topics, params = {}) {
      const target = new URL(hubUrl);
      for (const topic of topics) target.searchParams.append('topic', topic);
      for (const [name, value] of Object.entries(params)) target.searchParams.set(name, value);
      return target.toString();
    },
    async publish(fields, bearer = publisherToken) {
      const body = new URLSearchParams();
      for (const [name, value] of Object.entries(fields)) {
        for (const item of Array.isArray(value) ? value : [value]) body.append(name, item);
      }
      return fetch(hubUrl, { method: 'POST', headers: { authorization: `Bearer ${bearer}` }, body });
    },
    async close() {
      await hub.close({ graceMs: 100 });
      await closeServer(server);
    },
  };
}
