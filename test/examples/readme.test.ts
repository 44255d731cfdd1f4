// README.md's snippets, run as written: every TypeScript block is read from README.md and type-checked,
// and each block marked `<!-- test: NAME -->` (readme-snippets.ts says how marks work) runs in a process
// of its own against real servers; the shell ones (siar subscribe, siar publish, curl) against a real
// `siar serve`. Edit a snippet in README.md and this test runs the new one.
//
// Besides a mark's replacements, a snippet gets only an environment: the variables the README tells a
// reader to set (KEY, TOKEN, SIAR_KEY, API_KEY) and, for a `siar serve` line, PORT=0 (a free port, read from its
// banner) and SIAR_HOST=127.0.0.1 where it would listen on every address; `siar publish` gets
// SIAR_HUB_URL, the test's hub, where it would go to localhost:3000.
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:http2';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readBody } from '../../examples/serve.js';
import { createSelfSignedCertificate } from '../../src/cli/dev-certificate.js';
import { createToken } from '../../src/hub/index.js';
import { createEventStream, refuse } from '../../src/server/index.js';
import { closeServer, freePort, listen, sleep, waitFor } from '../helpers/net.js';
import { openSse, type SseConnection } from '../helpers/sse-client.js';
import { listening, type Running, readmeSnippets, type Snippet, Workspace } from './readme-snippets.js';

const readme = readmeSnippets();
const marked = new Map(readme.filter((snippet) => snippet.marked).map((snippet) => [snippet.name, snippet]));
const tested = new Set<string>();
const workspace = new Workspace();
afterAll(() => workspace.close());

let cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

/** Describes the tests of README.md's block marked `name`; a missing block is a failing test. */
function describeSnippet(name: string, tests: (snippet: Snippet) => void): void {
  tested.add(name);
  const snippet = marked.get(name);
  if (snippet === undefined) {
    it(`README.md has a block marked <!-- test: ${name} -->`, () => {
      expect([...marked.keys()]).toContain(name);
    });
    return;
  }
  // Each starts processes of its own (tsx, siar, a hub): slow on a busy machine.
  describe(`README.md:${snippet.line} (${name})`, { timeout: 60_000 }, () => tests(snippet));
}

/**
 * Runs a TypeScript snippet with its port replaced by a free one (given port 0, it could not say which
 * it got); resolves once it listens there.
 */
async function runServerSnippet(
  snippet: Snippet,
  env: Record<string, string> = {},
): Promise<{ url: string; port: number; running: Running }> {
  const port = await freePort();
  const running = workspace.runTs(workspace.write(snippet.name, snippet.lang, snippet.code({ port })), env);
  cleanups.push(() => running.stop());
  await listening(port, running);
  return { url: `http://127.0.0.1:${port}`, port, running };
}

async function sse(url: string, headers: Record<string, string> = {}): Promise<SseConnection> {
  const connection = await openSse(url, { headers });
  cleanups.push(() => connection.close());
  return connection;
}

const BOOK = 'https://example.com/books/1';
const SOLD = '{"status":"sold"}';

/** Publishes an update (SOLD on BOOK unless `fields` say otherwise) with a form POST; resolves to its ID. */
async function publish(hubUrl: string, token: string, fields: Record<string, string> = {}): Promise<string> {
  const response = await fetch(hubUrl, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: new URLSearchParams({ topic: BOOK, data: SOLD, ...fields }),
  });
  expect(response.status).toBe(200);
  return response.text();
}

/** The hub `npm start` runs, as the README's client snippets find it: its URL, port and printed tokens. */
let hub: { url: string; port: string; publisherToken: string; subscriberToken: string };
/** An SSE API like the ones the client snippets call on api.example.com. */
let api: { server: Server; url: string; key: string };
beforeAll(async () => {
  const running = workspace.runScript('start', { PORT: '0' });
  const [, url, port] = await running.waitFor(
    /listening on (http:\/\/127\.0\.0\.1:(\d+)\/\.well-known\/mercure)/,
  );
  const [, publisherToken] = await running.waitFor(/publisher token:\s+(\S+)/);
  const [, subscriberToken] = await running.waitFor(/subscriber token:\s+(\S+)/);
  hub = {
    url: url as string,
    port: port as string,
    publisherToken: publisherToken as string,
    subscriberToken: subscriberToken as string,
  };
  const key = 'readme-api-key';
  const server = createServer(async (req, res) => {
    // GET /events: a stream of 12 events for `Bearer TOKEN` (the shell snippet's literal header).
    if (req.method === 'GET' && req.url === '/events') {
      if (req.headers.authorization !== 'Bearer TOKEN') return refuse(res, 401, 'Bearer TOKEN expected.');
      const stream = createEventStream(req, res);
      for (let n = 1; n <= 12; n++) stream.send({ data: `event ${n}` });
      return;
    }
    // POST /v1/chat: a completion streamed in pieces, then [DONE], for the API key.
    if (req.method === 'POST' && req.url === '/v1/chat') {
      if (req.headers.authorization !== `Bearer ${key}`) return refuse(res, 401, 'Unknown API key.');
      // The snippet's JSON body (anything else throws here, and vitest reports it).
      const { prompt } = JSON.parse(await readBody(req)) as { prompt: string };
      const stream = createEventStream(req, res);
      for (const piece of [`${prompt}, `, 'and ', 'welcome.', '[DONE]']) stream.send({ data: piece });
      return;
    }
    refuse(res, 404, 'Not found.');
  });
  api = { server, url: await listen(server), key };
}, 60_000);
afterAll(() => closeServer(api.server));

describe('the TypeScript snippets', () => {
  it('type-check as written, marked or not, in a project of their own with strict settings', async () => {
    const typescript = readme.filter((snippet) => snippet.lang === 'ts' || snippet.lang === 'tsx');
    // Among them the Fastify one, whose reply.eventStream() needs siar/server's type augmentation, and
    // blocks no test runs (the React hooks).
    expect(typescript.map((snippet) => snippet.name)).toContain('fastify');
    expect(typescript.filter((snippet) => snippet.lang === 'tsx' && !snippet.marked)).not.toEqual([]);
    expect(await workspace.typeCheck(typescript)).toBe('');
  }, 120_000);
});

describeSnippet('node-http', (snippet) => {
  it('streams prices with a retry hint; a client that comes back gets what it missed', async () => {
    const { url } = await runServerSnippet(snippet);
    const first = await sse(url);
    await first.waitForEvents(2, 10_000);
    first.close();
    expect(first.retries).toEqual([2000]);
    expect(first.events[0]?.type).toBe('price');
    const seen = Number(first.events[0]?.lastEventId);
    // Back with the first one's ID: the history sends the second at once, then the live ones follow.
    const back = await sse(url, { 'Last-Event-ID': String(seen) });
    await back.waitForEvents(2, 10_000);
    expect(back.events.slice(0, 2).map((event) => Number(event.lastEventId))).toEqual([seen + 1, seen + 2]);
    expect(back.events[0]?.data).toBe(first.events[1]?.data);
  });
});

describeSnippet('express', (snippet) => {
  it('/messages takes text, a form or JSON, answers 400 to anything else, and broadcasts', async () => {
    const { url } = await runServerSnippet(snippet);
    const client = await sse(`${url}/events`);
    const post = (type: string, body: string) =>
      fetch(`${url}/messages`, { method: 'POST', headers: { 'content-type': type }, body });

    for (const [type, body] of [
      ['text/plain', 'as text'],
      ['application/x-www-form-urlencoded', 'message=from+a+form'],
      ['application/json', JSON.stringify({ message: 'as JSON' })],
    ] as const) {
      const response = await post(type, body);
      expect(response.status, type).toBe(200);
      expect(await response.json()).toEqual({ deliveredTo: 1 });
    }
    for (const [type, body] of [
      ['application/x-www-form-urlencoded', 'text=no+message+field'],
      ['application/json', JSON.stringify({ message: 42 })],
      ['application/octet-stream', 'bytes'],
    ] as const) {
      const response = await post(type, body);
      expect(response.status, `${type} ${body}`).toBe(400);
      expect(await response.text()).toContain('a form or JSON object with a "message" field');
    }
    await client.waitForEvents(3);
    expect(client.events).toEqual(
      ['as text', 'from a form', 'as JSON'].map((data) => ({ type: 'message', data, lastEventId: '' })),
    );
  });
});

describeSnippet('fastify', (snippet) => {
  it('reply.eventStream() streams the time with a retry hint', async () => {
    const { url } = await runServerSnippet(snippet);
    const client = await sse(`${url}/clock`);
    expect(client.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    await client.waitForEvents(2, 10_000);
    expect(client.retries).toEqual([5000]);
    for (const event of client.events) {
      expect(event.type).toBe('time');
      expect(new Date(event.data).toISOString()).toBe(event.data);
    }
  });
});

describeSnippet('hono', (snippet) => {
  it('counts down from 3, then ends the stream', async () => {
    const { url } = await runServerSnippet(snippet);
    const client = await sse(`${url}/countdown`);
    await client.ended;
    expect(client.events.map((event) => event.data)).toEqual(['3', '2', '1']);
  });
});

describeSnippet('eventsource', (snippet) => {
  it("with npm start's subscriber token, logs each update on the topic, a price one by its type", async () => {
    const path = workspace.write(snippet.name, snippet.lang, snippet.code({ port: hub.port }));
    const running = workspace.runTs(path, { TOKEN: hub.subscriberToken });
    cleanups.push(() => running.stop());
    const publishNews = (fields: Record<string, string>) =>
      publish(hub.url, hub.publisherToken, { topic: 'news', ...fields });
    // It connects in its own time: publish until it has logged one.
    const ids: string[] = [];
    await waitFor(
      async () => {
        if (running.stdout().includes('\n')) return true;
        ids.push(await publishNews({ data: 'hello' }));
        await sleep(200);
        return false;
      },
      15_000,
      'the snippet logging an update',
    );
    const [line] = running.stdout().split('\n');
    const [data, lastEventId, origin] = (line as string).split(' ');
    expect(data).toBe('hello');
    expect(ids).toContain(lastEventId);
    expect(origin).toBe(`http://localhost:${hub.port}`);
    await publishNews({ type: 'price', data: '42' });
    await waitFor(() => running.stdout().includes('price 42\n'), 10_000, 'the price event logged');
  });
});

describeSnippet('subscribe-post', (snippet) => {
  const path = () => workspace.write(snippet.name, snippet.lang, snippet.code({ api: api.url }));

  it('writes the streamed completion, stops at [DONE] and ends', async () => {
    const running = workspace.runTs(path(), { API_KEY: api.key });
    expect(await running.exit(), running.stderr()).toBe(0);
    expect(running.stdout()).toBe('Hello, and welcome.');
  });

  it("prints a refusal's status and body", async () => {
    const running = workspace.runTs(path(), { API_KEY: 'not-the-key' });
    expect(await running.exit(), running.stderr()).toBe(0);
    expect(running.stdout()).toBe('');
    expect(running.stderr()).toMatch(/^401 .*Unknown API key\./);
  });
});

describeSnippet('subscribe', (snippet) => {
  const commands = () => snippet.commands({ port: hub.port, api: api.url });

  it('has the three commands the tests below run', () => {
    expect(commands()).toHaveLength(3);
  });

  it('1: with the subscriber token npm start printed, prints each update as a JSON line', async () => {
    const subscriber = workspace.runShell(commands()[0] as string, { TOKEN: hub.subscriberToken });
    cleanups.push(() => subscriber.stop());
    await subscriber.waitFor(/connected to/);
    const id = await publish(hub.url, hub.publisherToken);
    await waitFor(() => subscriber.stdout().includes('\n'), 10_000, 'an event on stdout');
    expect(JSON.parse(subscriber.stdout())).toEqual({ type: 'message', data: SOLD, lastEventId: id });
  });

  it('1: with TOKEN unset, the hub npm start runs refuses the empty Bearer header (400) and says what it wants', async () => {
    const subscriber = workspace.runShell(commands()[0] as string, { TOKEN: '' });
    expect(await subscriber.exit()).toBe(1);
    // RFC 6750: "Authorization: Bearer " with no token is a malformed request, not a missing token.
    expect(subscriber.stderr()).toContain('400 Bad Request');
    expect(subscriber.stderr()).toContain('Bearer <token>');
  });

  it('2: with the header, --count 10 events as JSON through jq, then exits 0', async () => {
    const subscriber = workspace.runShell(commands()[1] as string);
    expect(await subscriber.exit()).toBe(0);
    expect(subscriber.stdout()).toBe(
      Array.from({ length: 10 }, (_, n) => `${JSON.stringify(`event ${n + 1}`)}\n`).join(''),
    );
  });

  it('3: writes the updates to events.txt as text/event-stream', async () => {
    const file = join(workspace.dir, 'events.txt');
    const subscriber = workspace.runShell(commands()[2] as string, { TOKEN: hub.subscriberToken });
    cleanups.push(() => subscriber.stop());
    await subscriber.waitFor(/connected to/);
    const id = await publish(hub.url, hub.publisherToken);
    await waitFor(
      () => existsSync(file) && readFileSync(file, 'utf8').endsWith('\n\n'),
      10_000,
      'an event in events.txt',
    );
    expect(readFileSync(file, 'utf8')).toBe(`id: ${id}\ndata: ${SOLD}\n\n`);
  });
});

describeSnippet('serve', (snippet) => {
  it('--demo: a development key and tokens printed, 127.0.0.1 only, the demo page at /', async () => {
    const demo = workspace.runShell(snippet.commands()[0] as string, { PORT: '0' });
    cleanups.push(() => demo.stop());
    const [, base] = await demo.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)\/\.well-known\/mercure/);
    await demo.waitFor(/key \(HS256\):\s+\S+/);
    await demo.waitFor(/subscriber token:\s+\S+/);
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    await page.body?.cancel();
  });
});

describeSnippet('publish', (snippet) => {
  it("the curl form POST and siar publish each deliver an update to the README's sqlite hub", async () => {
    const key = 'readme-test-key-long-enough-for-hs256';
    // The hub of the `serve` block's second line: the publisher key, a CORS origin, SQLite.
    const serve = marked.get('serve')?.commands()[1] as string;
    expect(serve).toContain('--store sqlite:hub.db');
    const sqliteHub = workspace.runShell(serve, { KEY: key, PORT: '0', SIAR_HOST: '127.0.0.1' });
    cleanups.push(() => sqliteHub.stop());
    const [, hubUrl, port] = await sqliteHub.waitFor(
      /listening on (http:\/\/127\.0\.0\.1:(\d+)\/\.well-known\/mercure) \(store: sqlite\)/,
    );
    const token = await createToken({ subscribe: ['*'] }, key);
    const subscriber = await sse(`${hubUrl}?topic=${encodeURIComponent(BOOK)}`, {
      authorization: `Bearer ${token}`,
    });
    expect(subscriber.status).toBe(200);

    // siar publish goes to SIAR_HUB_URL: the test's hub, where the reader's is on localhost:3000.
    const publisher = workspace.runShell(snippet.commands({ port: port as string }).join('\n'), {
      KEY: key,
      SIAR_HUB_URL: hubUrl as string,
    });
    expect(await publisher.exit(), publisher.stderr()).toBe(0);
    // curl prints the first ID as the hub answers it (no newline), siar publish the second on a line.
    const ids = /^(urn:uuid:[0-9a-f-]{36})(urn:uuid:[0-9a-f-]{36})\n$/.exec(publisher.stdout());
    expect(ids, publisher.stdout()).not.toBeNull();
    await subscriber.waitForEvents(2);
    expect(subscriber.events).toEqual([
      { type: 'message', data: SOLD, lastEventId: ids?.[1] },
      { type: 'message', data: SOLD, lastEventId: ids?.[2] },
    ]);
  });
});

describeSnippet('embedded-hub', (snippet) => {
  it('serves a hub that has the update it published in its history', async () => {
    const { url } = await runServerSnippet(snippet, { KEY: 'readme-test-key-long-enough-for-hs256' });
    const subscriber = await sse(
      `${url}/.well-known/mercure?topic=${encodeURIComponent(BOOK)}&lastEventID=earliest`,
    );
    expect(subscriber.status).toBe(200);
    await subscriber.waitForEvents(1);
    expect(subscriber.events[0]?.data).toBe(SOLD);
  });
});

describeSnippet('hub-server', (snippet) => {
  beforeAll(() => {
    const { cert, key } = createSelfSignedCertificate();
    workspace.write('cert', 'pem', cert);
    workspace.write('key', 'pem', key);
  });

  it('without SIAR_KEY, stops at once and says which variable to set', async () => {
    const running = workspace.runTs(workspace.write(snippet.name, snippet.lang, snippet.code({ port: 0 })), {
      SIAR_KEY: '',
    });
    expect(await running.exit()).toBe(1);
    expect(running.stderr()).toContain('Set SIAR_KEY to the JWT secret of the hub.');
  });

  it('with SIAR_KEY, serves HTTP/2 over TLS and shuts down on SIGTERM', async () => {
    const { port, running } = await runServerSnippet(snippet, {
      SIAR_KEY: 'readme-test-key-long-enough-for-hs256',
    });
    const session = connect(`https://127.0.0.1:${port}`, {
      ca: readFileSync(join(workspace.dir, 'cert.pem')),
    });
    cleanups.push(() => session.destroy());
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const request = session.request({ ':path': '/healthz' });
      request.once('response', (headers) => resolve(headers[':status']));
      request.once('error', reject);
      request.resume();
    });
    expect(status).toBe(200);
    session.close();
    expect(await running.stop('SIGTERM')).toBe(0);
  });
});

describe('the marks', () => {
  it('every block marked in README.md has its tests here', () => {
    expect([...marked.keys()].sort()).toEqual([...tested].sort());
  });
});
