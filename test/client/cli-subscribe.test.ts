import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { parseAll } from '../../src/protocol/index.js';
import { closeServer, listen, sleep } from '../helpers/net.js';
import {
  eventStream,
  type Script,
  type ScriptedServer,
  startScriptedServer,
} from '../helpers/scripted-server.js';

// The real `siar` binary, from source through tsx so a stale dist/ cannot hide a change.
const root = fileURLToPath(new URL('../..', import.meta.url));
const children = new Set<ChildProcess>();
const servers: ScriptedServer[] = [];

afterEach(async () => {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function serve(script: Script): Promise<ScriptedServer> {
  const server = await startScriptedServer(script);
  servers.push(server);
  return server;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function siar(...args: string[]): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.NO_COLOR;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (text: string) => {
    stdout += text;
  });
  child.stderr?.setEncoding('utf8').on('data', (text: string) => {
    stderr += text;
  });
  return new Promise((resolve) =>
    child.on('close', (code) => {
      children.delete(child);
      resolve({ code, stdout, stderr });
    }),
  );
}

/** A stream of numbered events that ends after two, with `retry: 20`, so the CLI reconnects. */
const numbered: Script = (request, res) => {
  eventStream(res);
  const first = request.index * 2;
  res.write(
    `retry: 20\nid: ${first}\ndata: event ${first}\n\nevent: tick\nid: ${first + 1}\ndata: a\ndata: b\n\n`,
  );
  if (request.index === 0) res.end();
};

describe('siar subscribe', () => {
  it('prints one JSON object per event when stdout is not a terminal, and reconnects with Last-Event-ID', async () => {
    const server = await serve(numbered);
    const run = await siar('subscribe', `${server.origin}/events`, '--count', '3');
    expect(run.code).toBe(0);
    expect(
      run.stdout
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line)),
    ).toEqual([
      { type: 'message', data: 'event 0', lastEventId: '0' },
      { type: 'tick', data: 'a\nb', lastEventId: '1' },
      { type: 'message', data: 'event 2', lastEventId: '2' },
    ]);
    expect(server.requests.map((request) => request.lastEventId)).toEqual([undefined, '1']);
    expect(server.requests[0]?.headers.accept).toBe('text/event-stream');
    expect(run.stderr).toContain(`connected to ${server.origin}/events`);
    expect(run.stderr).toContain('the server ended the stream; reconnecting in 0.0 s');
  });

  it('--format pretty prints one block per event, without colour when stdout is not a terminal', async () => {
    const server = await serve(numbered);
    const run = await siar('subscribe', server.origin, '--format', 'pretty', '-n', '2');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('message id: 0\n  event 0\n\ntick id: 1\n  a\n  b\n\n');
  });

  it('--format raw re-encodes the events as an event stream that parses back to the same events', async () => {
    const server = await serve((_request, res) => {
      eventStream(res);
      res.write('id: 1\ndata: one\n\ndata: two\n\nevent: x\nid:\ndata: three\ndata: lines\n\n');
    });
    const run = await siar(
      'subscribe',
      server.origin,
      '--format',
      'raw',
      '--count',
      '3',
      '--last-event-id',
      '0',
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('id: 1\ndata: one\n\ndata: two\n\nevent: x\nid: \ndata: three\ndata: lines\n\n');
    expect(parseAll(run.stdout)).toEqual([
      { type: 'message', data: 'one', lastEventId: '1' },
      { type: 'message', data: 'two', lastEventId: '1' },
      { type: 'x', data: 'three\nlines', lastEventId: '' },
    ]);
  });

  it('sends --header, --last-event-id and --topic query parameters', async () => {
    const server = await serve(numbered);
    const run = await siar(
      'subscribe',
      `${server.origin}/.well-known/mercure?x=1`,
      '--header',
      'Authorization: Bearer abc',
      '-H',
      'X-Trace:  42 ',
      '--last-event-id',
      'urn:uuid:1',
      '--topic',
      'https://example.com/books/{id}',
      '-t',
      'news',
      '-n',
      '1',
    );
    expect(run.code).toBe(0);
    const [request] = server.requests;
    expect(request?.headers.authorization).toBe('Bearer abc');
    expect(request?.headers['x-trace']).toBe('42');
    expect(request?.lastEventId).toBe('urn:uuid:1');
    const url = new URL(request?.url ?? '', server.origin);
    expect(url.pathname).toBe('/.well-known/mercure');
    expect(url.searchParams.get('x')).toBe('1');
    expect(url.searchParams.getAll('topic')).toEqual(['https://example.com/books/{id}', 'news']);
  });

  it('--timeout ends a run that was connected with exit 0', async () => {
    const server = await serve((_request, res) => {
      eventStream(res);
      res.write('data: only\n\n');
    });
    const run = await siar('subscribe', server.origin, '--timeout', '0.5');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('{"type":"message","data":"only","lastEventId":""}\n');
    await server.requests[0]?.closed;
    expect(server.requests[0]?.abortedByClient()).toBe(true);
  });

  it('--timeout before --count events exits 1 and says how many came', async () => {
    const server = await serve((_request, res) => {
      eventStream(res);
      res.write('data: only\n\n');
    });
    const run = await siar('subscribe', server.origin, '--timeout', '0.5', '--count', '2');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('--timeout passed after 1 of 2 events');
  });

  it('--timeout without ever connecting exits 1 with the last error', async () => {
    const closed = createServer();
    const origin = await listen(closed);
    await closeServer(closed);
    const run = await siar('subscribe', origin, '--timeout', '0.5');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('(ECONNREFUSED); reconnecting in');
    expect(run.stderr).toContain(`no connection to ${origin}/ within --timeout`);
  });

  it('exits 1 on a refusal, with the status, the body and what to do next', async () => {
    const server = await serve((_request, res) => {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end('{"error":"token expired"}');
    });
    const run = await siar('subscribe', server.origin);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('401 Unauthorized: {"error":"token expired"}');
    expect(run.stderr).toContain("--header 'Authorization: Bearer TOKEN'");
    expect(server.requests.length).toBe(1);
  });

  it('exits 1 when the URL does not serve an event stream', async () => {
    const server = await serve((_request, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<h1>Welcome</h1>');
    });
    const run = await siar('subscribe', server.origin);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('Content-Type text/html, not text/event-stream');
    expect(run.stderr).toContain('does not serve server-sent events');
  });

  it('--no-reconnect exits 0 when the server ends the stream, and 1 when the connection fails', async () => {
    const server = await serve(numbered);
    const ended = await siar('subscribe', server.origin, '--no-reconnect');
    expect(ended.code).toBe(0);
    expect(ended.stdout.trimEnd().split('\n')).toHaveLength(2);
    expect(server.requests.length).toBe(1);

    const closed = createServer();
    const origin = await listen(closed);
    await closeServer(closed);
    const failed = await siar('subscribe', origin, '--no-reconnect');
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('ECONNREFUSED');
    expect(failed.stderr).toContain('Is the server running');
  });

  it('exits 0 when the reader of its output goes away (siar subscribe … | head -n 1)', async () => {
    const server = await serve(async (_request, res) => {
      eventStream(res);
      for (let i = 0; i < 500 && !res.destroyed; i++) {
        res.write(`data: ${i}\n\n`);
        await sleep(10);
      }
    });
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'subscribe', server.origin],
      {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    children.add(child);
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      stderr += text;
    });
    await once(child.stdout, 'data');
    child.stdout.destroy();
    const [code] = await once(child, 'close');
    expect(code).toBe(0);
    expect(stderr).not.toContain('EPIPE');
  });

  it.each([
    [[], 'needs the URL'],
    [['http://127.0.0.1:1/', 'http://127.0.0.1:2/'], 'takes one URL'],
    [['not-a-url'], 'is not a URL'],
    [['ftp://127.0.0.1/'], 'not an http: or https: URL'],
    [['http://127.0.0.1:1/', '--format', 'xml'], '--format must be pretty, json or raw'],
    [['http://127.0.0.1:1/', '--count', '0'], '--count takes a whole number'],
    [['http://127.0.0.1:1/', '--timeout', 'soon'], '--timeout takes a number of seconds'],
    [['http://127.0.0.1:1/', '--header', 'NoColon'], '--header takes "Name: value"'],
    [['http://127.0.0.1:1/', '--bogus'], "Unknown option '--bogus'"],
  ])('exits 2 on a usage error: %j', async (args, message) => {
    const run = await siar('subscribe', ...args);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
    expect(run.stderr).toContain('siar subscribe --help');
  });

  it('--help shows the options and examples', async () => {
    const run = await siar('subscribe', '--help');
    expect(run.code).toBe(0);
    for (const option of [
      '--format',
      '--header',
      '--last-event-id',
      '--topic',
      '--count',
      '--timeout',
      '--no-reconnect',
    ]) {
      expect(run.stdout).toContain(option);
    }
  });
});
