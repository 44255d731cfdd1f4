import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { type ClientRequest, request } from 'node:http';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterEach, describe } from 'vitest';
import { createToken, type HubOptions } from '../../src/hub/index.js';
import { RedisStore, type RedisStoreOptions } from '../../src/hub/stores/redis.js';
import { createParser, type ParsedEvent } from '../../src/protocol/index.js';
import { silentLogger } from '../../src/server/index.js';
import { startHub, type TestHub } from '../hub/hub-helpers.js';
import { waitFor } from './net.js';

/** The Redis the tests use: `REDIS_URL`, by default the local one. */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** The repository root (child hubs run from there). */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const inCi = process.env.CI === 'true';

/** A client that gives up at once instead of queueing or retrying: tests want errors, not waits. */
export function redisClient(url = REDIS_URL): Redis {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 2000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  client.on('error', () => {});
  return client;
}

/** Why Redis cannot be used, or undefined when it answered PING. */
async function redisProblem(url: string): Promise<string | undefined> {
  const client = redisClient(url);
  try {
    await client.connect();
    const pong = await client.ping();
    return pong === 'PONG' ? undefined : `PING answered ${pong}`;
  } catch (error) {
    return (error as Error).message;
  } finally {
    client.disconnect();
  }
}

const problem = await redisProblem(REDIS_URL);
if (problem !== undefined) {
  const message = `Redis at ${REDIS_URL} does not answer PING (${problem}). Start one or set REDIS_URL.`;
  // In CI a missing Redis is a broken setup, not a reason to pass.
  if (inCi) throw new Error(message);
  process.stderr.write(`${message} Skipping the Redis tests.\n`);
}

/** `describe` for tests that need the Redis at REDIS_URL: skipped (with a message) when it does not answer. */
export const describeRedis = describe.skipIf(problem !== undefined);

/**
 * Cleanups run after each test of the file that calls this, newest first, all of them even when
 * one fails (child processes must die whatever the assertions said).
 */
export function useTeardown(): (cleanup: () => unknown) => void {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    const errors: unknown[] = [];
    while (cleanups.length > 0) {
      try {
        await cleanups.pop()?.();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length > 0) throw errors[0];
  });
  return (cleanup) => {
    cleanups.push(cleanup);
  };
}

/** A key prefix no other test uses. */
export function newPrefix(): string {
  return `siar-test-${randomBytes(6).toString('hex')}`;
}

/** Deletes every key of a prefix (`{prefix}:…`) with SCAN MATCH and DEL. */
export async function deleteKeys(prefix: string, url = REDIS_URL): Promise<number> {
  const client = redisClient(url);
  await client.connect();
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `{${prefix}}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await client.del(...keys);
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
  return deleted;
}

/** A fresh prefix whose keys are deleted after the test. */
export function prefixFor(teardown: (cleanup: () => unknown) => void): string {
  const prefix = newPrefix();
  teardown(() => deleteKeys(prefix));
  return prefix;
}

/** A port free at the time of asking (listen on 0, close). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

const children = new Set<ChildProcess>();
// Whatever happens to the test, no hub or redis-server outlives the worker.
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/** A child process with its output kept for failure messages. */
export interface Child {
  process: ChildProcess;
  output(): string;
  /** Resolves when it has exited (at once if it already has). */
  exited: Promise<void>;
  /** Sends `signal` (default SIGKILL) and waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Keeps a child's output (for failure messages) and kills it if the test worker exits first. */
export function track(child: ChildProcess): Child {
  children.add(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  let done = false;
  const exited = new Promise<void>((resolve) => {
    // 'close', not 'exit': the output is all read by then.
    child.once('close', () => {
      done = true;
      children.delete(child);
      resolve();
    });
  });
  return {
    process: child,
    output: () => output,
    exited,
    async kill(signal = 'SIGKILL') {
      if (!done) child.kill(signal);
      await exited;
    },
  };
}

/** Waits until a child prints `text`, failing with its output when it exits first or takes too long. */
export async function waitForOutput(
  child: Child,
  text: string,
  timeoutMs: number,
  what: string,
): Promise<void> {
  let exited = false;
  void child.exited.then(() => {
    exited = true;
  });
  try {
    await waitFor(
      () => {
        if (child.output().includes(text)) return true;
        if (exited) throw new Error(`${what} exited before printing "${text}"`);
        return false;
      },
      timeoutMs,
      `${what} to print "${text}"`,
    );
  } catch (error) {
    await child.kill();
    throw new Error(`${(error as Error).message}\n${child.output()}`);
  }
}

export interface RedisServer {
  port: number;
  url: string;
  child: Child;
  /** Stops it (SIGKILL: nothing saved, it had no persistence anyway). */
  stop(): Promise<void>;
  /** Starts it again on the same port, empty. */
  start(): Promise<void>;
}

/** A redis-server of the test's own, without persistence, on a free port. */
export async function startRedisServer(extraArgs: string[] = [], port?: number): Promise<RedisServer> {
  const chosen = port ?? (await freePort());
  const args = ['--port', String(chosen), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  const server: RedisServer = {
    port: chosen,
    url: `redis://127.0.0.1:${chosen}`,
    child: undefined as unknown as Child,
    async stop() {
      await server.child.kill('SIGKILL');
    },
    async start() {
      server.child = track(spawn('redis-server', [...args, ...extraArgs], { stdio: 'pipe' }));
      await waitForOutput(server.child, 'Ready to accept connections', 10_000, `redis-server :${chosen}`);
    },
  };
  await server.start();
  return server;
}

/** Ports p and p + 10000 (a cluster node's bus) both free at the time of asking. */
async function clusterPort(): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (port > 55_000) continue;
    const bus = createServer();
    const free = await new Promise<boolean>((resolve) => {
      bus.once('error', () => resolve(false));
      bus.listen(port + 10_000, '127.0.0.1', () => resolve(true));
    });
    if (free) await new Promise((resolve) => bus.close(resolve));
    if (free) return port;
  }
}

export interface RedisCluster {
  servers: RedisServer[];
  /** The first node's URL (a client finds the others from it). */
  url: string;
  stop(): Promise<void>;
}

/**
 * A Redis Cluster of three masters (no replicas) on free ports, its files in `dir`; resolves once
 * every node says `cluster_state:ok`.
 */
export async function startRedisCluster(dir: string): Promise<RedisCluster> {
  const servers: RedisServer[] = [];
  const stop = async () => {
    await Promise.all(servers.map((server) => server.stop()));
  };
  try {
    for (let i = 0; i < 3; i++) {
      const port = await clusterPort();
      servers.push(
        await startRedisServer(
          ['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--dir', dir],
          port,
        ),
      );
    }
    const create = track(
      spawn(
        'redis-cli',
        [
          '--cluster',
          'create',
          ...servers.map((server) => `127.0.0.1:${server.port}`),
          '--cluster-replicas',
          '0',
          '--cluster-yes',
        ],
        { stdio: 'pipe' },
      ),
    );
    await waitForOutput(create, 'All 16384 slots covered', 20_000, 'redis-cli --cluster create');
    await create.exited;
    for (const server of servers) {
      const client = redisClient(server.url);
      await client.connect();
      try {
        await waitFor(
          async () => String(await client.call('CLUSTER', 'INFO')).includes('cluster_state:ok'),
          20_000,
          `cluster_state:ok on :${server.port}`,
        );
      } finally {
        client.disconnect();
      }
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { servers, url: servers[0]?.url as string, stop };
}

/** The key of the child hubs' tokens. */
export const CLI_KEY = 'siar-redis-test-key-long-enough-for-hs256!';

export interface CliHub {
  port: number;
  url: string;
  hubUrl: string;
  child: Child;
}

/** Runs the real CLI, `siar serve --store <store>`, and waits for "Siar hub listening on". */
export async function startCliHub(store: string, extraArgs: string[] = []): Promise<CliHub> {
  const port = await freePort();
  const child = track(
    spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli/main.ts',
        'serve',
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        '--store',
        store,
        '--publisher-jwt-key',
        CLI_KEY,
        '--anonymous',
        ...extraArgs,
      ],
      { cwd: ROOT, stdio: 'pipe', env: { ...process.env, NODE_ENV: 'test' } },
    ),
  );
  await waitForOutput(child, 'Siar hub listening on', 20_000, `siar serve :${port}`);
  const url = `http://127.0.0.1:${port}`;
  return { port, url, hubUrl: `${url}/.well-known/mercure`, child };
}

/**
 * A hub node in a process of its own (test/helpers/redis-node.ts: subscriptions on, anonymous
 * subscribers, `key` for tokens), for tests that kill a node with SIGKILL.
 */
export async function startNodeProcess(key: string, store: RedisStoreOptions): Promise<CliHub> {
  const child = track(
    spawn(
      process.execPath,
      ['--import', 'tsx', 'test/helpers/redis-node.ts', JSON.stringify({ key, store })],
      {
        cwd: ROOT,
        stdio: 'pipe',
      },
    ),
  );
  await waitForOutput(child, 'listening on', 20_000, 'redis-node');
  const url = /listening on (\S+)/.exec(child.output())?.[1] as string;
  return { port: Number(new URL(url).port), url, hubUrl: `${url}/.well-known/mercure`, child };
}

/** A token allowed to publish to every topic, for the child hubs. */
export function cliPublisherToken(): Promise<string> {
  return createToken({ publish: ['*'], subscribe: ['*'] }, CLI_KEY);
}

/** Publishes a form update; resolves to the status and body (never throws on a refused connection: status 0). */
export async function publishTo(
  hubUrl: string,
  bearer: string,
  fields: Record<string, string | string[]>,
): Promise<{ status: number; body: string }> {
  const body = new URLSearchParams();
  for (const [name, value] of Object.entries(fields)) {
    for (const item of Array.isArray(value) ? value : [value]) body.append(name, item);
  }
  try {
    const response = await fetch(hubUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${bearer}` },
      body,
      signal: AbortSignal.timeout(10_000),
    });
    return { status: response.status, body: await response.text() };
  } catch {
    return { status: 0, body: '' };
  }
}

/** A subscription URL for `topics` on a hub URL. */
export function subscribeUrl(hubUrl: string, topics: string[], params: Record<string, string> = {}): string {
  const url = new URL(hubUrl);
  for (const topic of topics) url.searchParams.append('topic', topic);
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  return url.toString();
}

/** One connection of a {@link Follower}. */
export interface FollowerConnection {
  url: string;
  /** The status, or 0 when the connection failed. */
  status: number;
  /** The Last-Event-ID the follower sent, if any. */
  sentLastEventId?: string;
  /** The Last-Event-ID response header. */
  lastEventIdHeader?: string;
  /** Events received on this connection. */
  events: number;
}

/**
 * A subscriber that behaves like EventSource across nodes: when its connection ends (or cannot be
 * made) it reconnects to the next URL of its list with the last event ID it received.
 */
export class Follower {
  readonly events: ParsedEvent[] = [];
  readonly connections: FollowerConnection[] = [];
  comments = 0;
  private request: ClientRequest | undefined;
  private stopped = false;
  private next = 0;
  private lastEventId: string | undefined;
  private readonly opened: Promise<void>;

  /** Connects to `urls[0]` (each a full subscription URL), with `lastEventId` if given. */
  constructor(
    private readonly urls: string[],
    options: { lastEventId?: string; reconnectMs?: number } = {},
  ) {
    this.lastEventId = options.lastEventId;
    this.reconnectMs = options.reconnectMs ?? 50;
    this.opened = new Promise((resolve) => this.connect(resolve));
  }

  private readonly reconnectMs: number;

  /** Resolves once the first connection answered (or failed). */
  ready(): Promise<void> {
    return this.opened;
  }

  /** The IDs received, in order, across all connections. */
  ids(): string[] {
    return this.events.map((event) => event.lastEventId);
  }

  /** Closes the current connection and goes on at `url` with the last ID received. */
  moveTo(index: number): Promise<void> {
    this.next = index;
    const current = this.request;
    this.request = undefined;
    current?.destroy();
    return new Promise((resolve) => this.connect(resolve));
  }

  async waitFor(count: number, timeoutMs = 10_000): Promise<void> {
    await waitFor(
      () => this.events.length >= count,
      timeoutMs,
      `${count} events (have ${this.events.length}) on ${this.connections.at(-1)?.url}`,
    );
  }

  close(): void {
    this.stopped = true;
    this.request?.destroy();
  }

  private connect(opened: () => void): void {
    if (this.stopped) {
      opened();
      return;
    }
    const url = this.urls[this.next % this.urls.length] as string;
    this.next++;
    const record: FollowerConnection = { url, status: 0, sentLastEventId: this.lastEventId, events: 0 };
    this.connections.push(record);
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (this.lastEventId !== undefined) headers['last-event-id'] = this.lastEventId;
    const req = request(url, { agent: false, headers });
    this.request = req;
    let done = false;
    const again = () => {
      if (done) return;
      done = true;
      opened();
      if (this.stopped || this.request !== req) return;
      setTimeout(() => this.connect(() => {}), this.reconnectMs);
    };
    req.on('error', again);
    req.on('response', (res) => {
      record.status = res.statusCode ?? 0;
      const header = res.headers['last-event-id'];
      record.lastEventIdHeader = Array.isArray(header) ? header[0] : header;
      opened();
      const parser = createParser({
        onEvent: (event) => {
          if (this.request !== req) return;
          this.events.push(event);
          record.events++;
          if (event.lastEventId !== '') this.lastEventId = event.lastEventId;
        },
        onComment: () => {
          this.comments++;
        },
      });
      res.on('data', (chunk: Buffer) => parser.feed(chunk));
      res.on('error', again);
      res.on('close', again);
    });
    req.end();
  }
}

/** Every Follower made through this is closed after each test. */
export function useFollowers(
  teardown: (cleanup: () => unknown) => void,
): (urls: string[], options?: { lastEventId?: string }) => Promise<Follower> {
  return async (urls, options) => {
    const follower = new Follower(urls, options);
    teardown(() => follower.close());
    await follower.ready();
    return follower;
  };
}

/** Counts, for a list of IDs, those missing from and those repeated in `received` (compared to `expected`). */
export function lossAndDuplicates(
  expected: string[],
  received: string[],
): { missing: string[]; duplicated: string[]; outOfOrder: boolean } {
  const seen = new Map<string, number>();
  for (const id of received) seen.set(id, (seen.get(id) ?? 0) + 1);
  const missing = expected.filter((id) => !seen.has(id));
  const duplicated = [...seen].filter(([, count]) => count > 1).map(([id]) => id);
  const rank = new Map(expected.map((id, i) => [id, i]));
  const ranks = received.flatMap((id) => (rank.has(id) ? [rank.get(id) as number] : []));
  const outOfOrder = ranks.some((r, i) => i > 0 && r < (ranks[i - 1] as number));
  return { missing, duplicated, outOfOrder };
}

/** An in-process hub (node:http on 127.0.0.1) on a Redis store; closed after the test. */
export async function startRedisHub(
  teardown: (cleanup: () => unknown) => void,
  store: Partial<RedisStoreOptions> & { prefix: string },
  options: HubOptions = {},
): Promise<TestHub & { store: RedisStore }> {
  const redisStore = new RedisStore({ url: REDIS_URL, logger: silentLogger, ...store });
  const hub = await startHub({ anonymous: true, heartbeatMs: 0, ...options, store: redisStore });
  teardown(() => hub.close());
  return Object.assign(hub, { store: redisStore });
}

/** Log lines kept for assertions (and quiet on the terminal). */
export class LogRecorder {
  readonly lines: Array<{ level: string; message: string; fields: Record<string, unknown> }> = [];
  private record(level: string) {
    return (fields: Record<string, unknown>, message: string) => {
      this.lines.push({ level, message, fields });
    };
  }
  readonly debug = this.record('debug');
  readonly info = this.record('info');
  readonly warn = this.record('warn');
  readonly error = this.record('error');
  has(pattern: RegExp): boolean {
    return this.lines.some((line) => pattern.test(line.message));
  }
}

/** A Redis user of the test's own (ACL), deleted after the test: its connections can be told apart and killed. */
export async function redisUser(
  teardown: (cleanup: () => unknown) => void,
  baseUrl = REDIS_URL,
): Promise<{ user: string; url: string; killConnections(name?: string): Promise<number> }> {
  const user = `siar-test-${randomBytes(6).toString('hex')}`;
  const password = randomBytes(12).toString('hex');
  const admin = redisClient(baseUrl);
  await admin.connect();
  await admin.call('ACL', 'SETUSER', user, 'on', `>${password}`, '~*', '&*', '+@all');
  teardown(async () => {
    await admin.call('ACL', 'DELUSER', user).catch(() => undefined);
    admin.disconnect();
  });
  const url = new URL(baseUrl);
  url.username = user;
  url.password = password;
  return {
    user,
    url: url.toString(),
    /** Kills this user's connections (those named `name` only, when given); returns how many. */
    async killConnections(name) {
      if (name === undefined) return Number(await admin.call('CLIENT', 'KILL', 'USER', user));
      const list = String(await admin.call('CLIENT', 'LIST'));
      let killed = 0;
      for (const line of list.split('\n')) {
        const fields = new Map(line.split(' ').map((field) => field.split('=', 2) as [string, string]));
        if (fields.get('user') !== user || fields.get('name') !== name) continue;
        killed += Number(await admin.call('CLIENT', 'KILL', 'ID', fields.get('id') as string));
      }
      return killed;
    },
  };
}
