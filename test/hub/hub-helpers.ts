import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type AccessTokenGrants,
  type CreateAccessTokenOptions,
  createAccessToken,
  createHub,
  createToken,
  type Hub,
  type HubOptions,
  type MercureClaim,
} from '../../src/hub/index.js';
import { silentLogger } from '../../src/server/index.js';
import type { RunningProcess } from '../helpers/child-process.js';
import { runCli } from '../helpers/hub-process.js';
import { closeServer, listen } from '../helpers/net.js';
import { type OpenOptions, openSse, type SseConnection } from '../helpers/sse-client.js';
import { cleanupAfterEach } from '../helpers/teardown.js';

/** The HMAC secret of test hubs. */
export const TEST_KEY = 'siar-test-secret-that-is-long-enough-for-hs256';
/**
 * The environment of a test's `siar`: none of the keys, issuer, resource identifier, draft-07 switch
 * or token of whoever runs the tests (an empty variable counts as unset).
 */
export const NO_KEYS = {
  SIAR_PUBLISHER_JWT_KEY: '',
  MERCURE_PUBLISHER_JWT_KEY: '',
  SIAR_SUBSCRIBER_JWT_KEY: '',
  MERCURE_SUBSCRIBER_JWT_KEY: '',
  SIAR_ISSUER: '',
  SIAR_RESOURCE_IDENTIFIER: '',
  SIAR_JWKS_URL: '',
  SIAR_DRAFT_07: '',
  SIAR_TOKEN: '',
};

/** The issuer of test hubs' access tokens (draft-08), signed with the test key. */
export const TEST_ISSUER = 'https://app.example.com';

export interface TestHub {
  hub: Hub;
  server: Server;
  /** Base URL of the server, e.g. http://127.0.0.1:1234 */
  url: string;
  /** The hub's URL: `${url}/.well-known/mercure`. */
  hubUrl: string;
  /** A URL subscribing to `topics`, with extra query parameters. */
  subscribeUrl(topics: string[], params?: Record<string, string>): string;
  /** A URL subscribing with these query parameters, in order (`[['match', topic], …]`). */
  selectUrl(params: Array<[string, string]>): string;
  /** An access token of the test issuer for this hub (its URL is its resource identifier). */
  accessToken(grants: AccessTokenGrants, options?: Partial<CreateAccessTokenOptions>): Promise<string>;
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

/**
 * Starts a hub on 127.0.0.1 (port 0) with the test key (for draft-07 tokens, and access tokens of
 * the test issuer), quiet logs, and the given options.
 */
export async function startHub(options: HubOptions = {}): Promise<TestHub> {
  const hub = createHub({
    publisherJwt: { key: TEST_KEY },
    issuer: TEST_ISSUER,
    logger: silentLogger,
    ...options,
  });
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
    selectUrl(params) {
      return `${hubUrl}?${new URLSearchParams(params)}`;
    },
    accessToken(grants, options = {}) {
      return createAccessToken(grants, TEST_KEY, { issuer: TEST_ISSUER, audience: hubUrl, ...options });
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

/** `startHub` whose hub and server are closed after each test of the file that calls this. */
export function hubsClosedAfterEach(): (options?: HubOptions) => Promise<TestHub> {
  const defer = cleanupAfterEach();
  return async (options) => {
    const started = await startHub(options);
    defer(() => started.close());
    return started;
  };
}

/** `openSse` whose connection is closed after each test of the file that calls this. */
export function sseClosedAfterEach(): (url: string, options?: OpenOptions) => Promise<SseConnection> {
  const defer = cleanupAfterEach();
  return async (url, options) => {
    const connection = await openSse(url, options);
    defer(() => connection.close());
    return connection;
  };
}

/** A whole HTTP answer, read by node:http (which, unlike fetch, sends Origin, Referer and Cookie as given). */
export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** Sends one request on a fresh connection and reads the whole answer. */
export function send(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers, agent: false });
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    });
    req.end(options.body);
  });
}

/** A form body (`topic` may repeat). */
export function form(fields: Record<string, string | string[]>): string {
  const body = new URLSearchParams();
  for (const [name, value] of Object.entries(fields)) {
    for (const item of Array.isArray(value) ? value : [value]) body.append(name, item);
  }
  return body.toString();
}

/** Headers of a form publish with a bearer token. */
export function formHeaders(bearer: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    authorization: `Bearer ${bearer}`,
    'content-type': 'application/x-www-form-urlencoded',
    ...extra,
  };
}

/** The IDs of the events a connection received, in order. */
export function ids(connection: SseConnection): string[] {
  return connection.events.map((event) => event.lastEventId);
}

/** The data of the events a connection received, in order. */
export function data(connection: SseConnection): string[] {
  return connection.events.map((event) => event.data);
}

/** `runCli` (`siar <args>`, from the sources) whose process is killed after each test of the file that calls this. */
export function cliKilledAfterEach(): (args: string[], env?: Record<string, string>) => RunningProcess {
  const defer = cleanupAfterEach();
  return (args, env = {}) => runCli(defer, args, { env });
}

/** A directory under the system's temp directory, removed with its files after each test. */
export function tempDirsRemovedAfterEach(): () => string {
  const defer = cleanupAfterEach();
  return () => {
    const dir = mkdtempSync(join(tmpdir(), 'siar-hub-test-'));
    defer(() => rmSync(dir, { recursive: true, force: true }));
    return dir;
  };
}
