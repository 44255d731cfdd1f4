// The real `siar serve` under a low descriptor limit (`ulimit -n 1024`), with more subscribers asking
// at once than it can hold: it derives its capacity from the limit (and says so at start), serves
// that many, answers every other one 503 with Retry-After at once (none left unanswered in the listen
// backlog, none accepted and then dropped), over HTTP/1.1 and HTTP/2; and at capacity publishes,
// /healthz and /metrics still answer, and every subscriber held gets the updates.
import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { DESCRIPTOR_RESERVE } from '../../src/hub/capacity.js';
import { createToken } from '../../src/hub/index.js';
import { h2Publish, h2Request, h2Session } from '../helpers/http2.js';
import { startHubProcess } from '../helpers/hub-process.js';
import { waitFor } from '../helpers/net.js';
import { cleanupAfterEach } from '../helpers/teardown.js';

const defer = cleanupAfterEach();

const KEY = 'descriptor-limit-secret-long-enough-for-hs256';
const TOPIC = 'https://example.com/capacity';
const DESCRIPTOR_LIMIT = 1024;
/** Asking at once: past the subscriber capacity, and past what the descriptors could hold at once. */
const ASKING = 2000;
/** Every one of them is answered within this (a bound, not a speed: here it takes about a second). */
const ANSWER_BOUND_MS = 20_000;

type Answer = { status: number; retryAfter: string | undefined; socket: Socket; text: () => string };

/** A subscription on a raw socket: its status line and headers, or 0 for a connection closed unanswered. */
function subscribe(port: number): Promise<Answer> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    let done = false;
    const answer = (status: number) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      const retryAfter = /\r\nretry-after: (\S+)\r\n/i.exec(text)?.[1];
      resolve({ status, retryAfter, socket, text: () => text });
    };
    const timer = setTimeout(() => answer(-1), ANSWER_BOUND_MS);
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      text += chunk;
      const head = /^HTTP\/1\.1 (\d{3})[\s\S]*?\r\n\r\n/.exec(text);
      if (head) answer(Number(head[1]));
    });
    socket.on('error', () => {});
    socket.on('close', () => answer(0));
    socket.write(`GET /.well-known/mercure?topic=${encodeURIComponent(TOPIC)} HTTP/1.1\r\nHost: hub\r\n\r\n`);
  });
}

/** How many answers had each status: 0 closed unanswered, -1 none within the bound. */
function tally(statuses: number[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const status of statuses) counts[status] = (counts[status] ?? 0) + 1;
  return counts;
}

/** The capacity `siar serve` says it derived from its descriptor limit. */
const CAPACITY_WARNING =
  /The hub holds at most (\d+) subscribers, not the default maxSubscribers of 50000: this process may open 1024 descriptors \(RLIMIT_NOFILE\), \d+ are open, and \d+ more are kept for publishers[^\n]*ulimit -n \d+ in the shell/;

function metric(text: string, name: string): number {
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
}

describe(`siar serve under ulimit -n ${DESCRIPTOR_LIMIT}`, () => {
  it(`holds the subscribers its limit allows and answers the rest of ${ASKING} 503 at once; publishes, /healthz and /metrics still answer`, async () => {
    const hub = await startHubProcess(defer, {
      key: KEY,
      descriptorLimit: DESCRIPTOR_LIMIT,
      args: ['--no-dashboard'],
    });
    const capacity = Number((await hub.waitFor(CAPACITY_WARNING))[1]);
    // The limit less the reserve (the descriptors open at start, about 25, among them).
    expect(capacity).toBe(DESCRIPTOR_LIMIT - DESCRIPTOR_RESERVE);

    const answers = await Promise.all(Array.from({ length: ASKING }, () => subscribe(hub.port)));
    const sockets = answers.map((answer) => answer.socket);
    defer(() => {
      for (const socket of sockets) socket.destroy();
    });
    expect(tally(answers.map((answer) => answer.status))).toEqual({ 200: capacity, 503: ASKING - capacity });
    for (const answer of answers.filter(({ status }) => status === 503)) {
      expect(Number(answer.retryAfter)).toBeGreaterThan(0);
    }

    // At capacity: /healthz, /metrics and a publish answer, and every subscriber held gets the update.
    const health = await fetch(`${hub.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', subscribers: capacity, capacity });
    const metrics = await fetch(`${hub.url}/metrics`);
    expect(metrics.status).toBe(200);
    const text = await metrics.text();
    expect(metric(text, 'siar_subscriber_capacity')).toBe(capacity);
    expect(
      metric(text, 'siar_subscribers_refused_capacity_total') +
        metric(text, 'siar_connections_refused_total'),
    ).toBe(ASKING - capacity);
    const publisher = await createToken({ publish: ['*'] }, KEY);
    const published = await fetch(hub.hubUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${publisher}` },
      body: new URLSearchParams({ topic: TOPIC, id: 'at-capacity', data: 'x' }),
    });
    expect(published.status).toBe(200);
    const held = answers.filter(({ status }) => status === 200);
    await waitFor(
      () => held.every((answer) => answer.text().includes('id: at-capacity\n')),
      10_000,
      'every subscriber held to get the update',
    );
    // One log line per burst of refusals, not one per refusal.
    expect(hub.stderr()).not.toMatch(/holds its maximum/);
    expect(hub.stderr()).toMatch(/Refusing subscribers: the hub holds its most/);

    // They leave: the hub holds none, and takes new ones again.
    for (const socket of sockets) socket.destroy();
    await waitFor(
      async () =>
        ((await (await fetch(`${hub.url}/healthz`)).json()) as { subscribers: number }).subscribers === 0,
      5000,
      'the subscribers to be gone',
    );
    const again = await subscribe(hub.port);
    again.socket.destroy();
    expect(again.status).toBe(200);
  });

  it('answers subscribers past its capacity 503 with Retry-After over HTTP/2 too (h2c)', async () => {
    const hub = await startHubProcess(defer, {
      key: KEY,
      descriptorLimit: DESCRIPTOR_LIMIT,
      args: ['--no-dashboard', '--h2c'],
    });
    const capacity = Number((await hub.waitFor(CAPACITY_WARNING))[1]);
    // Streams share connections: three sessions carry more streams than the hub holds subscribers.
    const sessions = [0, 1, 2].map(() => h2Session(hub.url));
    defer(() => {
      for (const session of sessions) session.destroy();
    });
    const asking = capacity + 100;
    const path = `/.well-known/mercure?topic=${encodeURIComponent(TOPIC)}`;
    const exchanges = Array.from({ length: asking }, (_, i) =>
      h2Request(sessions[i % sessions.length] as (typeof sessions)[number], path),
    );
    const heads = await Promise.all(exchanges.map((exchange) => exchange.response));
    expect(tally(heads.map((head) => head[':status'] ?? 0))).toEqual({ 200: capacity, 503: 100 });
    for (const head of heads.filter((head) => head[':status'] === 503)) {
      expect(Number(head['retry-after'])).toBeGreaterThan(0);
    }
    const session = h2Session(hub.url);
    defer(() => session.destroy());
    const health = h2Request(session, '/healthz');
    expect((await health.response)[':status']).toBe(200);
    await health.closed;
    expect(JSON.parse(health.text())).toMatchObject({ subscribers: capacity, capacity });
    const publisher = await createToken({ publish: ['*'] }, KEY);
    expect((await h2Publish(session, publisher, { topic: TOPIC, id: 'h2', data: 'x' })).status).toBe(200);
    const held = exchanges.filter((_, i) => heads[i]?.[':status'] === 200);
    await waitFor(
      () => held.every((exchange) => exchange.events.some((event) => event.lastEventId === 'h2')),
      10_000,
      'every subscriber held to get the update',
    );
  });
});
