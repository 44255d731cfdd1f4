import {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  connect,
  type IncomingHttpHeaders,
  type IncomingHttpStatusHeader,
} from 'node:http2';
import type { AddressInfo } from 'node:net';
import { createSelfSignedCertificate } from '../../src/cli/dev-certificate.js';
import {
  closeHubServer,
  createHub,
  createHubServer,
  createToken,
  type Hub,
  type HubOptions,
  type HubServer,
  type HubServerOptions,
} from '../../src/hub/index.js';
import { createParser, type ParsedEvent } from '../../src/protocol/index.js';
import { silentLogger } from '../../src/server/index.js';
import { waitFor } from './net.js';

let certificate: { cert: string; key: string } | undefined;

/** One self-signed certificate for localhost, 127.0.0.1 and ::1, made once per test file. */
export function testCertificate(): { cert: string; key: string } {
  certificate ??= createSelfSignedCertificate();
  return certificate;
}

/** The HMAC secret of the hubs these tests start. */
export const H2_TEST_KEY = 'siar-http2-test-secret-long-enough-for-hs256';

export interface ServedHub {
  hub: Hub;
  server: HubServer;
  /** `https://127.0.0.1:<port>` (with `tls`) or `http://…`. */
  url: string;
  hubUrl: string;
  subscribeUrl(topics: string[], params?: Record<string, string>): string;
  /** `/.well-known/mercure?topic=…`: the path a raw HTTP/2 request asks for. */
  subscribePath(topics: string[], params?: Record<string, string>): string;
  publisherToken: string;
  /** Publishes with a token allowed to publish anywhere (over h2, or HTTP/1.1 on a plain server); the status. */
  publish(fields: Record<string, string>): Promise<number>;
  close(): Promise<void>;
}

/**
 * A hub behind `createHubServer` on 127.0.0.1 (port 0): TLS with the test certificate unless `h2c`
 * or `plain` is set. Quiet logs, the test key, anonymous subscribers, no heartbeats.
 */
export async function serveHub(
  options: HubOptions = {},
  serverOptions: HubServerOptions & { plain?: boolean } = {},
): Promise<ServedHub> {
  const hub = createHub({
    publisherJwt: { key: H2_TEST_KEY },
    anonymous: true,
    heartbeatMs: 0,
    logger: silentLogger,
    ...options,
  });
  await hub.ready();
  const { plain, ...rest } = serverOptions;
  const secure = !plain && !rest.h2c;
  const server = createHubServer(hub, { ...(secure ? { tls: testCertificate() } : {}), ...rest });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `${secure ? 'https' : 'http'}://127.0.0.1:${port}`;
  const hubUrl = `${url}/.well-known/mercure`;
  const subscribeUrl = (topics: string[], params: Record<string, string> = {}) => {
    const target = new URL(hubUrl);
    for (const topic of topics) target.searchParams.append('topic', topic);
    for (const [name, value] of Object.entries(params)) target.searchParams.set(name, value);
    return target.toString();
  };
  let closed = false;
  const publisherToken = await createToken({ publish: ['*'], subscribe: ['*'] }, H2_TEST_KEY);
  return {
    hub,
    server,
    url,
    hubUrl,
    subscribeUrl,
    subscribePath: (topics, params) => {
      const target = new URL(subscribeUrl(topics, params));
      return `${target.pathname}${target.search}`;
    },
    publisherToken,
    async publish(fields) {
      if (plain) {
        const response = await fetch(hubUrl, {
          method: 'POST',
          headers: { authorization: `Bearer ${publisherToken}` },
          body: new URLSearchParams(fields),
        });
        await response.arrayBuffer();
        return response.status;
      }
      const session = h2Session(url);
      try {
        return (await h2Publish(session, publisherToken, fields)).status;
      } finally {
        session.close();
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await closeHubServer(server, { graceMs: 100 });
    },
  };
}

/** An HTTP/2 client session (TLS trusting the test certificate, or h2c for `http:`). */
export function h2Session(url: string): ClientHttp2Session {
  const session = connect(url, url.startsWith('https:') ? { ca: testCertificate().cert } : {});
  session.on('error', () => {});
  return session;
}

export interface H2Exchange {
  stream: ClientHttp2Stream;
  /** The response head (`:status` and the headers). */
  response: Promise<IncomingHttpHeaders & IncomingHttpStatusHeader>;
  /** The events parsed from the body so far. */
  events: ParsedEvent[];
  retries: number[];
  /** The body so far, as text. */
  text(): string;
  /** Resolves when the stream has closed (ended or reset); to its RST_STREAM code. */
  closed: Promise<number>;
  waitForEvents(count: number, timeoutMs?: number): Promise<ParsedEvent[]>;
}

/** Sends one request on `session`; reads the body as an event stream unless `read` is false. */
export function h2Request(
  session: ClientHttp2Session,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string; read?: boolean } = {},
): H2Exchange {
  const stream = session.request(
    { ':method': options.method ?? 'GET', ':path': path, ...options.headers },
    { endStream: options.body === undefined },
  );
  stream.on('error', () => {});
  const events: ParsedEvent[] = [];
  const retries: number[] = [];
  let text = '';
  const parser = createParser({ onEvent: (event) => events.push(event), onRetry: (ms) => retries.push(ms) });
  if (options.read !== false) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      text += chunk;
      parser.feed(chunk);
    });
  } else {
    stream.pause();
  }
  if (options.body !== undefined) stream.end(options.body);
  const exchange: H2Exchange = {
    stream,
    response: new Promise((resolve, reject) => {
      stream.once('response', resolve);
      stream.once('close', () =>
        reject(new Error(`stream closed before a response (code ${stream.rstCode})`)),
      );
    }),
    events,
    retries,
    text: () => text,
    closed: new Promise((resolve) => stream.once('close', () => resolve(stream.rstCode ?? 0))),
    async waitForEvents(count, timeoutMs = 5000) {
      await waitFor(() => events.length >= count, timeoutMs, `${count} events (have ${events.length})`);
      return events;
    },
  };
  exchange.response.catch(() => {});
  return exchange;
}

/** Publishes over HTTP/2 on `session`; resolves to the status and the body (the update's ID on 200). */
export async function h2Publish(
  session: ClientHttp2Session,
  token: string,
  fields: Record<string, string | string[]>,
): Promise<{ status: number; body: string; headers: IncomingHttpHeaders }> {
  const form = new URLSearchParams();
  for (const [name, value] of Object.entries(fields)) {
    for (const item of Array.isArray(value) ? value : [value]) form.append(name, item);
  }
  const exchange = h2Request(session, '/.well-known/mercure', {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
  });
  const headers = await exchange.response;
  await exchange.closed;
  return { status: Number(headers[':status']), body: exchange.text(), headers };
}

/** Headers HTTP/2 forbids (RFC 9113 §8.2.2): none may appear in a response. */
export const CONNECTION_HEADERS = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
];
