/**
 * Fuzzing the hub over the wire: random publish requests (form bodies with repeated, missing and huge
 * fields, invalid UTF-8 percent-escapes, JSON of every shape, random bytes, odd Content-Types, good
 * and bad tokens), random subscriptions and mutated request heads, each sent on its own connection
 * to a hub behind `createHubServer` (the standalone server: the fast path, then node:http).
 *
 * The oracle, for every request: an answer comes (no hang), its status is 200 or 4xx (never 5xx),
 * an accepted update reaches a subscriber watching everything, and that subscriber stays connected.
 * For the whole run: the hub logs no unexpected error, and the process sees no unhandled rejection
 * and no uncaught exception. `test/reliability/fuzz.test.ts` runs it in `npm test`, `npm run fuzz`
 * (bench/fuzz.ts) for longer.
 */
import { connect } from 'node:net';
import fc from 'fast-check';
import { type JWTPayload, SignJWT } from 'jose';
import {
  closeHubServer,
  createHub,
  createHubServer,
  createToken,
  type Hub,
  type HubServer,
} from '../../../src/hub/index.js';
import type { Logger } from '../../../src/server/index.js';
import { openSse, type SseConnection } from '../../helpers/sse-client.js';

export const FUZZ_KEY = 'siar-fuzz-secret-that-is-long-enough-for-hs256';
/** The fuzzed hub's limits: small, so that random sizes cross them often. */
export const FUZZ_LIMITS = { maxUpdateBytes: 4096, maxTopics: 8, maxTopicLength: 256, maxTokenBytes: 2048 };
const PUBLISH_ORIGIN = 'https://app.example.com';
const HUB_PATH = '/.well-known/mercure';
/** Longest wait for an answer, and for an accepted update to reach the watcher. */
const ANSWER_TIMEOUT_MS = 10_000;

/** The tokens a request may carry; made once per target. */
export interface FuzzTokens {
  publisher: string;
  /** May publish to https://example.com/allowed/{id} only. */
  narrow: string;
  subscriber: string;
  /** Signed with another key. */
  forged: string;
  /**
   * Signed with the hub's key, or not quite: random claims of every type (`mercure.publish` a
   * string, `exp` an object, selectors that are no templates…), `alg: none`, another HMAC algorithm,
   * expired, not yet valid.
   */
  odd: string[];
}

/** One request, as the bytes sent on a fresh connection. */
export interface FuzzRequest {
  kind: 'publish' | 'subscribe' | 'raw';
  bytes: Buffer;
}

// ---------------------------------------------------------------------------------------------
// Generators

/** Characters that matter somewhere: to forms, templates, frames, headers. */
const SPECIAL = [
  '\r',
  '\n',
  '\r\n',
  '\0',
  '%',
  '&',
  '=',
  '+',
  '#',
  '{',
  '}',
  '*',
  ':',
  ' ',
  ';',
  '"',
  '\uFEFF',
];

const char = fc.oneof(
  { weight: 6, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.constantFrom(...SPECIAL) },
  // Lone surrogates: not valid Unicode, but a JSON string may carry them.
  { weight: 1, arbitrary: fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code)) },
);
const text = (maxLength: number) => fc.string({ unit: char, maxLength });

/** Some text now and then the size of the limit, give or take, in one- and two-byte characters. */
const sized = fc.oneof(
  { weight: 8, arbitrary: text(40) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.integer({ min: -40, max: 40 }), fc.constantFrom('x', 'é'))
      .map(([delta, unit]) => unit.repeat(Math.max(0, (FUZZ_LIMITS.maxUpdateBytes + delta) / unit.length))),
  },
);

const topic = fc.oneof(
  fc.constantFrom(
    'https://example.com/books/1',
    'https://example.com/allowed/7',
    'https://example.com/books/{id}',
    '*',
    '',
    '{',
    '}{',
    '{+a}{#b}{?c*}',
    'urn:x',
  ),
  text(30),
  fc.integer({ min: 250, max: 262 }).map((length) => `https://example.com/${'t'.repeat(length - 20)}`),
);

const fieldName = fc.constantFrom(
  'topic',
  'topic',
  'data',
  'id',
  'type',
  'retry',
  'private',
  'Topic',
  'topic[]',
  '',
);
const retryValue = fc.oneof(
  fc.nat().map(String),
  fc.constantFrom('-1', '1.5', '1e3', ' 1', '99999999999', '0x10', ''),
  text(5),
);

/** A form field's value for its name. */
function fieldValue(name: string): fc.Arbitrary<string> {
  if (name === 'topic' || name === 'Topic' || name === 'topic[]') return topic;
  if (name === 'retry') return retryValue;
  if (name === 'data') return sized;
  return text(20);
}

/** Percent-escapes, some of them invalid UTF-8 or not escapes at all. */
const percentEscape = fc.oneof(
  fc.constantFrom(
    '%FF',
    '%C3%28',
    '%E2%82',
    '%ED%A0%80',
    '%F4%90%80%80',
    '%C0%AF',
    '%',
    '%G1',
    '%2',
    '%00',
    '%0D%0A',
  ),
  fc.integer({ min: 0, max: 255 }).map((byte) => `%${byte.toString(16).padStart(2, '0')}`),
);

/** A value written into a form body: properly encoded, or raw with stray escapes mixed in. */
const formText = (value: string) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constant(encodeURIComponent(value.replace(/[\uD800-\uDFFF]/g, '?'))) },
    {
      weight: 1,
      arbitrary: fc
        .array(fc.oneof(percentEscape, fc.constant(value.replace(/[&=]/g, ''))), { maxLength: 4 })
        .map((parts) => parts.join('')),
    },
  );

const formField = fieldName.chain((name) =>
  fieldValue(name).chain((value) => fc.tuple(formText(name), formText(value)).map(([n, v]) => `${n}=${v}`)),
);

/** A form body: random fields (repeated, missing), usually with one plain topic to get past that check. */
const formBody = fc
  .tuple(fc.array(formField, { maxLength: 12 }), fc.boolean(), fc.constantFrom('&', '&&', ';'))
  .map(([fields, withTopic, separator]) =>
    (withTopic ? ['topic=https%3A%2F%2Fexample.com%2Fbooks%2F1', ...fields] : fields).join(separator),
  );

/** A form a publisher means to send: valid fields but for the odd value, encoded as URLSearchParams does. */
const plausibleForm = fc
  .record(
    {
      topic: fc.array(topic, { minLength: 1, maxLength: 3 }),
      data: sized,
      id: fc.oneof(text(12), fc.uuid()),
      type: fc.constantFrom('message', 'update', 'a b', ''),
      retry: fc.oneof(fc.nat({ max: 100_000 }).map(String), retryValue),
      private: fc.constantFrom('on', '', 'false'),
    },
    { requiredKeys: ['topic'] },
  )
  .map((fields) => {
    const form = new URLSearchParams();
    for (const [name, value] of Object.entries(fields)) {
      for (const item of Array.isArray(value) ? value : [value]) {
        form.append(name, (item as string).replace(/[\uD800-\uDFFF]/g, '?'));
      }
    }
    return form.toString();
  });

const jsonish = fc.oneof(
  text(20),
  sized,
  fc.array(topic, { maxLength: 10 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.dictionary(text(5), text(5), { maxKeys: 3 }),
);
const jsonBody = fc.oneof(
  fc
    .record(
      {
        topic: fc.oneof(topic, jsonish),
        data: jsonish,
        id: jsonish,
        type: jsonish,
        retry: jsonish,
        private: jsonish,
      },
      { requiredKeys: [] },
    )
    .map((object) => JSON.stringify(object)),
  fc
    .record({ topic, data: sized, id: fc.option(text(10), { nil: undefined }) })
    .map((o) => JSON.stringify(o)),
  fc.jsonValue().map((value) => JSON.stringify(value)),
  fc.tuple(fc.jsonValue(), fc.nat()).map(([value, cut]) => {
    const json = JSON.stringify(value) ?? '';
    return json.slice(0, cut % (json.length + 1));
  }),
);

const contentType = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.constantFrom(
      'application/x-www-form-urlencoded',
      'application/x-www-form-urlencoded; charset=utf-8',
      'Application/X-WWW-Form-Urlencoded;charset=latin1',
      'application/json',
      'APPLICATION/JSON; charset=utf-8',
    ),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      undefined,
      '',
      'text/plain',
      'multipart/form-data; boundary=x',
      'application/x-www-form-urlencoded, application/json',
      ';',
      'application/json;;;',
      '*/*',
    ),
  },
  // Any visible ASCII: what a header value may hold.
  {
    weight: 1,
    arbitrary: fc.string({
      unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
      maxLength: 40,
    }),
  },
);

type Credential = (tokens: FuzzTokens) => string[];
const credential: fc.Arbitrary<Credential> = fc.oneof(
  { weight: 12, arbitrary: fc.constant<Credential>((t) => [`Authorization: Bearer ${t.publisher}`]) },
  { weight: 1, arbitrary: fc.constant<Credential>((t) => [`Authorization: Bearer ${t.narrow}`]) },
  { weight: 1, arbitrary: fc.constant<Credential>((t) => [`Authorization: Bearer ${t.forged}`]) },
  { weight: 1, arbitrary: fc.constant<Credential>((t) => [`Authorization: Bearer ${t.subscriber}`]) },
  { weight: 1, arbitrary: fc.constant<Credential>(() => []) },
  {
    weight: 2,
    arbitrary: fc.nat().map(
      (i): Credential =>
        (t) => [`Authorization: Bearer ${t.odd[i % t.odd.length]}`],
    ),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom('Bearer', 'Basic eDp5', 'Bearer a.b.c', `Bearer ${'a'.repeat(3000)}`)
      .map((value) => (): string[] => [`Authorization: ${value}`]),
  },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom(PUBLISH_ORIGIN, 'https://evil.example', 'null', undefined)
      .map((origin) => (t: FuzzTokens): string[] => [
        `Cookie: mercureAuthorization=${t.publisher}`,
        ...(origin === undefined ? [] : [`Origin: ${origin}`]),
      ]),
  },
);

/** A body on the wire: with Content-Length, or chunked in random pieces. */
const framing = fc.oneof(
  { weight: 4, arbitrary: fc.constant<number[] | undefined>(undefined) },
  { weight: 1, arbitrary: fc.array(fc.integer({ min: 1, max: 3000 }), { minLength: 1, maxLength: 5 }) },
);

function frame(head: string[], body: Buffer, chunks: number[] | undefined): Buffer {
  if (chunks === undefined) {
    return Buffer.concat([
      Buffer.from(`${[...head, `Content-Length: ${body.length}`].join('\r\n')}\r\n\r\n`, 'latin1'),
      body,
    ]);
  }
  const parts: Buffer[] = [
    Buffer.from(`${[...head, 'Transfer-Encoding: chunked'].join('\r\n')}\r\n\r\n`, 'latin1'),
  ];
  let at = 0;
  for (let i = 0; at < body.length; i++) {
    const size = Math.min(chunks[i % chunks.length] as number, body.length - at);
    parts.push(Buffer.from(`${size.toString(16)}\r\n`), body.subarray(at, at + size), Buffer.from('\r\n'));
    at += size;
  }
  parts.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(parts);
}

const FORM = 'application/x-www-form-urlencoded';
const JSON_TYPE = 'application/json';

/** A body and the Content-Type that goes with it (which `contentType` may then replace). */
const publishBody: fc.Arbitrary<[Buffer, string]> = fc.oneof(
  { weight: 3, arbitrary: formBody.map((body): [Buffer, string] => [Buffer.from(body, 'latin1'), FORM]) },
  {
    weight: 4,
    arbitrary: plausibleForm.map((body): [Buffer, string] => [Buffer.from(body, 'latin1'), FORM]),
  },
  { weight: 3, arbitrary: jsonBody.map((body): [Buffer, string] => [Buffer.from(body, 'utf8'), JSON_TYPE]) },
  {
    weight: 1,
    arbitrary: fc
      .uint8Array({ maxLength: 2048 })
      .map((bytes): [Buffer, string] => [Buffer.from(bytes), FORM]),
  },
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: FUZZ_LIMITS.maxUpdateBytes - 8, max: FUZZ_LIMITS.maxUpdateBytes * 2 })
      .map((size): [Buffer, string] => [Buffer.from(`topic=a&data=${'z'.repeat(size)}`), FORM]),
  },
);

/** A publish request: POST mostly, now and then another method. */
export function publishRequest(tokens: FuzzTokens): fc.Arbitrary<FuzzRequest> {
  return fc
    .record({
      method: fc.oneof(
        { weight: 9, arbitrary: fc.constant('POST') },
        fc.constantFrom('PUT', 'PATCH', 'DELETE'),
      ),
      query: fc.oneof(
        { weight: 4, arbitrary: fc.constant('') },
        fc.constantFrom('?topic=a', '?authorization=x', '?%ZZ'),
      ),
      type: fc.option(contentType, { nil: null, freq: 3 }),
      credential,
      body: publishBody,
      framing,
    })
    .map(({ method, query, type: otherType, credential: carry, body: [body, ownType], framing: chunks }) => {
      const type = otherType === null ? ownType : otherType;
      return {
        kind: 'publish' as const,
        bytes: frame(
          [
            `${method} ${HUB_PATH}${query} HTTP/1.1`,
            'Host: hub',
            'Connection: close',
            ...carry(tokens),
            ...(type === undefined ? [] : [`Content-Type: ${type}`]),
          ],
          body,
          chunks,
        ),
      };
    });
}

/** Visible latin1 (what a header value may hold), for Last-Event-ID and the like. */
const headerText = fc.string({
  unit: fc
    .oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0xa0, max: 0xff }))
    .map((c) => String.fromCharCode(c)),
  maxLength: 40,
});

/** A subscription: random selectors, last event IDs and credentials. */
export function subscribeRequest(tokens: FuzzTokens): fc.Arbitrary<FuzzRequest> {
  const param = fc.oneof(
    { weight: 4, arbitrary: topic.map((value) => ['topic', value] as const) },
    {
      weight: 1,
      arbitrary: fc.oneof(text(20), fc.constant('earliest')).map((value) => ['lastEventID', value] as const),
    },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom(tokens.subscriber, tokens.forged, 'x.y.z', '')
        .map((value) => ['authorization', value] as const),
    },
    { weight: 1, arbitrary: text(10).map((value) => [value, value] as const) },
  );
  return fc
    .record({
      params: fc.array(param, { maxLength: 12 }),
      rawQuery: fc.oneof(
        { weight: 4, arbitrary: fc.constant('') },
        percentEscape.map((value) => `&${value}`),
      ),
      lastEventId: fc.option(headerText, { nil: undefined }),
      bearer: fc.option(
        fc.oneof(
          { weight: 3, arbitrary: fc.constantFrom(tokens.subscriber, tokens.publisher) },
          { weight: 1, arbitrary: fc.constantFrom(tokens.forged, 'garbage', ...tokens.odd) },
        ),
        { nil: undefined },
      ),
      origin: fc.option(fc.constantFrom(PUBLISH_ORIGIN, 'https://evil.example', 'null'), {
        nil: undefined,
        freq: 4,
      }),
    })
    .map(({ params, rawQuery, lastEventId, bearer, origin }) => {
      const query = new URLSearchParams();
      for (const [name, value] of params) query.append(name, value.replace(/[\uD800-\uDFFF]/g, '?'));
      const head = [
        `GET ${HUB_PATH}?${query.toString()}${rawQuery} HTTP/1.1`,
        'Host: hub',
        'Accept: text/event-stream',
        ...(lastEventId === undefined ? [] : [`Last-Event-ID: ${lastEventId}`]),
        ...(bearer === undefined ? [] : [`Authorization: Bearer ${bearer}`]),
        ...(origin === undefined ? [] : [`Origin: ${origin}`]),
      ];
      return { kind: 'subscribe' as const, bytes: Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'latin1') };
    });
}

/** A valid request head with a few bytes changed, removed or added: what a broken client sends. */
export function rawRequest(tokens: FuzzTokens): fc.Arbitrary<FuzzRequest> {
  const valid = fc.constantFrom(
    `GET ${HUB_PATH}?topic=a HTTP/1.1\r\nHost: hub\r\n`,
    `POST ${HUB_PATH} HTTP/1.1\r\nHost: hub\r\nAuthorization: Bearer ${tokens.publisher}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 7\r\n`,
    'GET /healthz HTTP/1.1\r\nHost: hub\r\n',
  );
  const edit = fc.record({
    at: fc.nat(),
    remove: fc.integer({ min: 0, max: 3 }),
    insert: fc.uint8Array({ maxLength: 4 }),
  });
  return fc.tuple(valid, fc.array(edit, { minLength: 1, maxLength: 4 })).map(([head, edits]) => {
    let bytes = Buffer.from(head, 'latin1');
    for (const { at, remove, insert } of edits) {
      const where = at % (bytes.length + 1);
      bytes = Buffer.concat([bytes.subarray(0, where), Buffer.from(insert), bytes.subarray(where + remove)]);
    }
    // The head always ends, and a body of 7 bytes follows: a valid publish's, or junk after the head.
    return { kind: 'raw' as const, bytes: Buffer.concat([bytes, Buffer.from('\r\n\r\ntopic=a')]) };
  });
}

/** Any of the three, mostly publishes (the issue's target). */
export function fuzzRequest(tokens: FuzzTokens): fc.Arbitrary<FuzzRequest> {
  return fc.oneof(
    { weight: 6, arbitrary: publishRequest(tokens) },
    { weight: 2, arbitrary: subscribeRequest(tokens) },
    { weight: 1, arbitrary: rawRequest(tokens) },
  );
}

// ---------------------------------------------------------------------------------------------
// The target and the oracle

export interface Answer {
  /** The status of the answer; undefined when the connection closed without one. */
  status: number | undefined;
  /** The answer's body (for a 200 publish: the update's ID), or what came of an event stream. */
  body: string;
  headers: string;
}

/** Sends `bytes` on a fresh connection; reads the answer (the head only, for an event stream). */
export function exchange(port: number, bytes: Buffer, timeoutMs = ANSWER_TIMEOUT_MS): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms; got ${visible(received.toString('latin1'))}`));
    }, timeoutMs);
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      const end = received.indexOf('\r\n\r\n');
      const head = (end === -1 ? received : received.subarray(0, end)).toString('latin1');
      const match = /^HTTP\/1\.[01] (\d{3}) /.exec(head);
      resolve({
        status: match ? Number(match[1]) : undefined,
        headers: head,
        body: end === -1 ? '' : decodeBody(head, received.subarray(end + 4)).toString('utf8'),
      });
    };
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      // An event stream does not end: its head is the answer.
      const end = received.indexOf('\r\n\r\n');
      const head = end === -1 ? '' : received.subarray(0, end).toString('latin1');
      if (head.startsWith('HTTP/1.1 200 ') && /^content-type: text\/event-stream/im.test(head)) finish();
    });
    socket.on('error', () => {});
    socket.on('close', finish);
    socket.write(bytes);
  });
}

/** The body of an answer, its chunked framing removed. */
function decodeBody(head: string, body: Buffer): Buffer {
  if (!/transfer-encoding: chunked/i.test(head)) return body;
  const parts: Buffer[] = [];
  let rest = body;
  for (;;) {
    const line = rest.indexOf('\r\n');
    const size = Number.parseInt(rest.subarray(0, line).toString('latin1'), 16);
    if (line === -1 || !(size > 0)) return Buffer.concat(parts);
    parts.push(rest.subarray(line + 2, line + 2 + size));
    rest = rest.subarray(line + 2 + size + 2);
  }
}

/** JSON with every character outside printable ASCII escaped, for messages. */
export function visible(value: unknown): string {
  return (JSON.stringify(value) ?? 'undefined').replace(
    /[^\x20-\x7e]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

export interface FuzzTarget {
  hub: Hub;
  port: number;
  tokens: FuzzTokens;
  /** A subscriber to every topic, private ones included, through the fast path. */
  watcher: SseConnection;
  /** Errors the hub logged, and unhandled rejections or uncaught exceptions in this process. */
  problems: string[];
  /** Sends one request and checks the oracle; returns the answer, throws what went wrong. */
  check(request: FuzzRequest): Promise<Answer>;
  close(): Promise<void>;
}

/** Starts a hub (memory store, the fuzz limits) behind createHubServer on 127.0.0.1, and its watcher. */
export async function startFuzzTarget(): Promise<FuzzTarget> {
  const problems: string[] = [];
  const logger: Logger = {
    debug: () => {},
    info: () => {},
    warn: () => {},
    error: (fields, message) => problems.push(`hub logged an error: ${message} ${JSON.stringify(fields)}`),
  };
  const onRejection = (reason: unknown) => problems.push(`unhandled rejection: ${String(reason)}`);
  const onException = (error: unknown) => problems.push(`uncaught exception: ${String(error)}`);
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  const hub = createHub({
    publisherJwt: { key: FUZZ_KEY },
    anonymous: true,
    publishOrigins: [PUBLISH_ORIGIN],
    corsOrigins: [PUBLISH_ORIGIN],
    heartbeatMs: 0,
    logger,
    ...FUZZ_LIMITS,
  });
  await hub.ready();
  // Short timeouts: a mutated head that promises a body it never sends is answered 408 soon.
  const server: HubServer = createHubServer(hub, { headersTimeoutMs: 1000, requestTimeoutMs: 2000 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const tokens: FuzzTokens = {
    publisher: await createToken({ publish: ['*'] }, FUZZ_KEY),
    narrow: await createToken({ publish: ['https://example.com/allowed/{id}'] }, FUZZ_KEY),
    subscriber: await createToken({ subscribe: ['*'] }, FUZZ_KEY),
    forged: await createToken({ publish: ['*'], subscribe: ['*'] }, 'another-secret-that-is-long-enough-too'),
    odd: await oddTokens(),
  };
  const watcher = await openSse(`http://127.0.0.1:${port}${HUB_PATH}?topic=*`, {
    headers: { authorization: `Bearer ${tokens.subscriber}` },
  });
  if (watcher.status !== 200) throw new Error(`the watcher was refused: ${watcher.status}`);
  let delivered = 0;
  return {
    hub,
    port,
    tokens,
    watcher,
    problems,
    async check(request) {
      const answer = await exchange(port, request.bytes);
      const status = answer.status;
      const what = `${request.kind} request ${visible(request.bytes.toString('latin1').slice(0, 300))}`;
      if (status === undefined) {
        throw new Error(`${what}: the connection closed without an answer (${visible(answer.headers)})`);
      }
      if (status >= 500) throw new Error(`${what}: answered ${status}: ${answer.body}`);
      if (status !== 200 && (status < 400 || status > 499)) throw new Error(`${what}: answered ${status}`);
      // A 200 to a publish is an accepted update: it must reach the watcher, with its ID.
      const accepted =
        status === 200 &&
        request.bytes.subarray(0, 5).toString('latin1') === 'POST ' &&
        !/content-type: text\/event-stream/i.test(answer.headers);
      if (accepted) {
        delivered++;
        const id = answer.body;
        const seen = await waitUntil(() => watcher.events.length >= delivered || watcher.isEnded());
        if (!seen || watcher.isEnded())
          throw new Error(
            `${what}: the watcher ${watcher.isEnded() ? 'was dropped' : 'never got the update'}`,
          );
        const event = watcher.events[delivered - 1];
        if (event?.lastEventId !== id) {
          throw new Error(
            `${what}: answered 200 with ID ${visible(id)}, the watcher got ${visible(event?.lastEventId)}`,
          );
        }
      }
      if (watcher.isEnded()) throw new Error(`${what}: the watcher was disconnected`);
      if (problems.length > 0) throw new Error(`${what}: ${problems.join('; ')}`);
      return answer;
    },
    async close() {
      watcher.close();
      process.off('unhandledRejection', onRejection);
      process.off('uncaughtException', onException);
      await closeHubServer(server, { graceMs: 100 });
    },
  };
}

/** A claim value of any JSON type, topic selectors among them. */
const claimValue = fc.oneof(
  { weight: 3, arbitrary: fc.array(topic, { maxLength: 6 }) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  { weight: 1, arbitrary: topic },
);

/** Tokens signed with the hub's key around random claims, and tokens wrong in the ways JWTs go wrong. */
async function oddTokens(): Promise<string[]> {
  const key = new TextEncoder().encode(FUZZ_KEY);
  const payloads = fc.sample(
    fc.record(
      {
        mercure: fc.oneof(
          fc.record(
            { publish: claimValue, subscribe: claimValue, payload: fc.jsonValue({ maxDepth: 2 }) },
            { requiredKeys: [] },
          ),
          fc.jsonValue({ maxDepth: 2 }),
        ),
        exp: fc.oneof(fc.constant(Math.floor(Date.now() / 1000) + 3600), fc.jsonValue({ maxDepth: 1 })),
        nbf: fc.jsonValue({ maxDepth: 1 }),
        iat: fc.jsonValue({ maxDepth: 1 }),
        aud: fc.jsonValue({ maxDepth: 1 }),
      },
      { requiredKeys: ['mercure'] },
    ),
    { numRuns: 60, seed: 7 },
  );
  const signed = await Promise.all(
    payloads.map((payload) =>
      new SignJWT(payload as Record<string, unknown>).setProtectedHeader({ alg: 'HS256' }).sign(key),
    ),
  );
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const all = { mercure: { publish: ['*'], subscribe: ['*'] } };
  const now = Math.floor(Date.now() / 1000);
  return [
    ...signed,
    `${b64({ alg: 'none', typ: 'JWT' })}.${b64(all)}.`,
    `${b64({ alg: 'none' })}.${b64(all)}`,
    await new SignJWT(all).setProtectedHeader({ alg: 'HS384' }).sign(key),
    await new SignJWT({ ...all, exp: now - 60 }).setProtectedHeader({ alg: 'HS256' }).sign(key),
    await new SignJWT({ ...all, nbf: now + 600 }).setProtectedHeader({ alg: 'HS256' }).sign(key),
    // A claim of the wrong type: jose's types would not have it.
    await new SignJWT({ ...all, exp: 'tomorrow' } as unknown as JWTPayload)
      .setProtectedHeader({ alg: 'HS256' })
      .sign(key),
    await new SignJWT({ ...all, payload: 'p'.repeat(3000) }).setProtectedHeader({ alg: 'HS256' }).sign(key),
    `${b64({ alg: 'HS256', crit: ['x'] })}.${b64(all)}.c2ln`,
    `${b64({ alg: 'HS256' })}.not-base64!.c2ln`,
  ];
}

async function waitUntil(check: () => boolean, timeoutMs = ANSWER_TIMEOUT_MS): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  return true;
}
