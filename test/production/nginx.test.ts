// The reverse-proxy advice of docs/production.md, tested: Debian's nginx runs the guide's own
// configuration block (read from the guide, only its addresses, certificate paths and read timeout
// changed) in front of real `siar serve` processes, and clients speak HTTP/2 to it over TLS, as
// browsers would. Each check has a control that shows it can fail: nginx's defaults (with the hub's
// X-Accel-Buffering ignored) hold events back; a hub without heartbeats loses its stream at the
// proxy's read timeout.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken } from '../../src/hub/index.js';
import { h2Publish, h2Request, h2Session, testCertificate } from '../helpers/http2.js';
import { sleep, waitFor } from '../helpers/net.js';

const NGINX = process.env.NGINX ?? '/usr/sbin/nginx';
const GUIDE = new URL('../../docs/production.md', import.meta.url);
const KEY = 'production-guide-test-secret-of-some-length';
/** Longest time an event may take from its publish to the subscriber, through the proxy. */
const ARRIVAL_BOUND_MS = 2000;
/** The proxy's read timeout in these tests, and the hub's heartbeat, well under it. */
const READ_TIMEOUT_S = 2;
const HEARTBEAT_MS = 500;

/** The guide's nginx block: the fenced block after the comment that names this test. */
function guideBlock(): string {
  const text = readFileSync(GUIDE, 'utf8');
  const marker = text.indexOf('read by test/production/nginx.test.ts');
  const match = /```nginx\n([\s\S]*?)```/.exec(text.slice(marker));
  if (marker < 0 || !match?.[1])
    throw new Error('docs/production.md has no nginx block marked for this test');
  return match[1];
}

/** Replaces `from` with `to` in `text`, failing when the guide no longer has `from`. */
function replaceOnce(text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`The guide's nginx block no longer has "${from}"`);
  return text.replace(from, to);
}

/** The guide's block for one test server: its upstream renamed, its addresses and paths this test's. */
function guideServer(name: string, hubPort: number, port: number, dir: string): string {
  let block = guideBlock();
  block = replaceOnce(block, 'upstream siar {', `upstream ${name} {`);
  block = replaceOnce(block, 'proxy_pass http://siar;', `proxy_pass http://${name};`);
  block = replaceOnce(block, 'server 127.0.0.1:3000;', `server 127.0.0.1:${hubPort};`);
  block = replaceOnce(block, 'listen 443 ssl http2;', `listen 127.0.0.1:${port} ssl http2;`);
  block = replaceOnce(block, '/etc/ssl/hub.example.com/fullchain.pem', join(dir, 'cert.pem'));
  block = replaceOnce(block, '/etc/ssl/hub.example.com/privkey.pem', join(dir, 'key.pem'));
  return replaceOnce(block, 'proxy_read_timeout 1h;', `proxy_read_timeout ${READ_TIMEOUT_S}s;`);
}

/** nginx's defaults in front of a hub: `proxy_pass` alone (HTTP/1.0 upstream, buffering on). */
function defaultsServer(hubPort: number, port: number, dir: string, extra: string): string {
  return `server {
    listen 127.0.0.1:${port} ssl http2;
    ssl_certificate ${join(dir, 'cert.pem')};
    ssl_certificate_key ${join(dir, 'key.pem')};
    location / {
        proxy_pass http://127.0.0.1:${hubPort};
        ${extra}
    }
}
`;
}

/** A whole nginx configuration around `servers`: one process, everything it writes in `dir`. */
function nginxConfig(dir: string, servers: string[]): string {
  return `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events {
    worker_connections 1024;
}
http {
    access_log off;
    client_body_temp_path ${dir}/body;
    proxy_temp_path ${dir}/proxy;
    fastcgi_temp_path ${dir}/fastcgi;
    uwsgi_temp_path ${dir}/uwsgi;
    scgi_temp_path ${dir}/scgi;
${servers.join('\n')}
}
`;
}

/** A port nothing listens on (it was free a moment ago). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

function listening(port: number, timeoutMs: number): Promise<void> {
  return waitFor(
    () =>
      new Promise<boolean>((resolve) => {
        const socket = connect(port, '127.0.0.1');
        socket.once('connect', () => {
          socket.destroy();
          resolve(true);
        });
        socket.once('error', () => resolve(false));
      }),
    timeoutMs,
    `nginx listening on ${port}`,
  ).then(() => undefined);
}

const children: ChildProcess[] = [];

/** Kills a child this test started (SIGTERM, then SIGKILL) and waits for it to end. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

/** Starts `siar serve` on a free port; resolves to the port once it listens. */
async function startSiar(heartbeatMs: number): Promise<number> {
  const child = spawn(
    process.execPath,
    [
      ...['--import', 'tsx', 'src/cli/main.ts', 'serve', '--host', '127.0.0.1', '--port', '0'],
      ...['--publisher-jwt-key', KEY, '--anonymous', '--no-dashboard', '--heartbeat', String(heartbeatMs)],
      ...['--store', 'memory'],
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const match = await waitFor(
    () => /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(output),
    20_000,
    'siar serve',
  );
  return Number((match as RegExpExecArray)[1]);
}

const nginxHere = existsSync(NGINX);
const ports = { guide: 0, quiet: 0, defaults: 0, ignored: 0 };
let dir = '';
let token = '';

describe.runIf(nginxHere || process.env.CI === 'true')(
  'nginx with the guide configuration, in front of siar serve',
  () => {
    beforeAll(async () => {
      if (!nginxHere) throw new Error(`nginx is not installed at ${NGINX} (apt-get install nginx-light)`);
      dir = mkdtempSync(join(tmpdir(), 'siar-nginx-'));
      const { cert, key } = testCertificate();
      writeFileSync(join(dir, 'cert.pem'), cert);
      writeFileSync(join(dir, 'key.pem'), key, { mode: 0o600 });
      const [beating, silent] = await Promise.all([startSiar(HEARTBEAT_MS), startSiar(0)]);
      for (const name of Object.keys(ports) as Array<keyof typeof ports>) ports[name] = await freePort();
      const config = nginxConfig(dir, [
        guideServer('siar', beating, ports.guide, dir),
        guideServer('siar_quiet', silent, ports.quiet, dir),
        defaultsServer(silent, ports.defaults, dir, ''),
        defaultsServer(silent, ports.ignored, dir, 'proxy_ignore_headers X-Accel-Buffering;'),
      ]);
      writeFileSync(join(dir, 'nginx.conf'), config);
      const nginx = spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(nginx);
      await Promise.all(Object.values(ports).map((port) => listening(port, 10_000)));
      token = await createToken({ publish: ['*'] }, KEY);
    });

    afterAll(async () => {
      await Promise.all(children.map(stop));
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    const origin = (port: number) => `https://127.0.0.1:${port}`;
    const path = (topic: string) => `/.well-known/mercure?topic=${encodeURIComponent(topic)}`;

    it('passes each event on as soon as the hub writes it', async () => {
      const session = h2Session(origin(ports.guide));
      try {
        const topic = 'https://example.com/unbuffered';
        const stream = h2Request(session, path(topic));
        const head = await stream.response;
        expect(head[':status']).toBe(200);
        expect(head['content-type']).toBe('text/event-stream; charset=utf-8');
        expect(head['content-encoding']).toBeUndefined();
        expect(head['x-accel-buffering']).toBeUndefined();
        for (let n = 1; n <= 5; n++) {
          const published = await h2Publish(session, token, {
            topic,
            data: `event ${n}`,
            id: `unbuffered-${n}`,
          });
          expect(published.status).toBe(200);
          await stream.waitForEvents(n, ARRIVAL_BOUND_MS);
        }
        expect(stream.events.map((event) => event.data)).toEqual([1, 2, 3, 4, 5].map((n) => `event ${n}`));
      } finally {
        session.close();
      }
    });

    it("relies on the hub's X-Accel-Buffering under nginx's defaults; without it, events are held", async () => {
      const topic = 'https://example.com/defaults';
      const honoured = h2Session(origin(ports.defaults));
      const ignored = h2Session(origin(ports.ignored));
      // The guide's configuration in front of the same hub, for publishing and counting.
      const publisher = h2Session(origin(ports.quiet));
      try {
        const passed = h2Request(honoured, path(topic));
        const held = h2Request(ignored, path(topic));
        // Both subscriptions must be in before the publish: the hub counts them.
        await waitFor(
          async () => (await healthz(publisher)).subscribers >= 2,
          5000,
          'two subscribers behind the defaults',
        );
        expect((await h2Publish(publisher, token, { topic, data: 'held?', id: 'defaults-1' })).status).toBe(
          200,
        );
        await passed.waitForEvents(1, ARRIVAL_BOUND_MS);
        expect(passed.events[0]?.data).toBe('held?');
        await sleep(ARRIVAL_BOUND_MS);
        expect(held.events).toEqual([]);
      } finally {
        for (const session of [honoured, ignored, publisher]) session.close();
      }
    });

    it("keeps a stream open past the proxy's read timeout with heartbeats, and loses it without", async () => {
      const beating = h2Session(origin(ports.guide));
      const silent = h2Session(origin(ports.quiet));
      try {
        const topic = 'https://example.com/idle';
        const kept = h2Request(beating, path(topic));
        const cut = h2Request(silent, path(topic));
        expect((await kept.response)[':status']).toBe(200);
        expect((await cut.response)[':status']).toBe(200);
        let cutClosed = false;
        void cut.closed.then(() => {
          cutClosed = true;
        });
        await sleep(READ_TIMEOUT_S * 2500);
        expect(cutClosed).toBe(true);
        expect(kept.stream.closed).toBe(false);
        expect(kept.text()).toContain(':\n');
        expect((await h2Publish(beating, token, { topic, data: 'still here', id: 'idle-1' })).status).toBe(
          200,
        );
        await kept.waitForEvents(1, ARRIVAL_BOUND_MS);
        expect(kept.events[0]?.data).toBe('still here');
      } finally {
        beating.close();
        silent.close();
      }
    });

    it('passes Last-Event-ID through: a subscriber coming back gets what it missed, and only that', async () => {
      const session = h2Session(origin(ports.guide));
      try {
        const topic = 'https://example.com/resume';
        for (const id of ['resume-1', 'resume-2', 'resume-3']) {
          expect((await h2Publish(session, token, { topic, data: id, id })).status).toBe(200);
        }
        const back = h2Request(session, path(topic), { headers: { 'last-event-id': 'resume-1' } });
        const head = await back.response;
        expect(head['last-event-id']).toBe('resume-1');
        await back.waitForEvents(2, ARRIVAL_BOUND_MS);
        await sleep(200);
        expect(back.events.map((event) => event.lastEventId)).toEqual(['resume-2', 'resume-3']);
      } finally {
        session.close();
      }
    });
  },
);

/** The hub's /healthz answer, asked on the HTTP/2 `session`. */
async function healthz(session: ReturnType<typeof h2Session>): Promise<{ subscribers: number }> {
  const exchange = h2Request(session, '/healthz');
  await exchange.response;
  await exchange.closed;
  return JSON.parse(exchange.text()) as { subscribers: number };
}
