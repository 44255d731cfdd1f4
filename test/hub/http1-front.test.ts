import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { installFastPath, parseRequestHead, type RequestHead } from '../../src/hub/http1-front.js';
import { closeServer, listen, waitFor } from '../helpers/net.js';

let closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.map((close) => close()));
  closers = [];
});

/** A front whose fast path takes GET /fast; node:http answers everything else with what it saw. */
async function frontServer() {
  const taken: Array<{ head: RequestHead; socket: Socket }> = [];
  const http: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    req.on('end', () =>
      res.end(JSON.stringify({ method: req.method, url: req.url, body, host: req.headers.host })),
    );
  });
  installFastPath(
    http,
    (head, socket) => {
      if (head.method !== 'GET' || head.url !== '/fast') return false;
      taken.push({ head, socket });
      socket.end('HTTP/1.1 200 OK\r\ncontent-length: 4\r\nconnection: close\r\n\r\nfast');
      return true;
    },
    { headersTimeoutMs: 300, maxHeaderBytes: 1024 },
  );
  const url = await listen(http);
  const port = Number(new URL(url).port);
  closers.push(() => closeServer(http));
  return { port, taken, url: `http://127.0.0.1:${port}` };
}

function raw(port: number, bytes: string[], gapMs = 20): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.on('data', (chunk) => {
      received += chunk.toString();
    });
    socket.on('close', () => resolve(received));
    socket.on('error', reject);
    let at = 0;
    const next = () => {
      const part = bytes[at++];
      if (part === undefined) return;
      socket.write(part);
      setTimeout(next, gapMs);
    };
    next();
  });
}

describe('installFastPath', () => {
  it('lets the fast path take the requests it serves, with the parsed head', async () => {
    const { url, taken } = await frontServer();
    const response = await fetch(`${url}/fast`, { headers: { 'X-Two': 'a', Cookie: 'a=1' } });
    expect(await response.text()).toBe('fast');
    expect(taken[0]?.head.method).toBe('GET');
    expect(taken[0]?.head.headers['x-two']).toBe('a');
    expect(taken[0]?.head.headers.cookie).toBe('a=1');
    expect(taken[0]?.head.httpVersion).toBe('1.1');
  });

  it('hands every other request to node:http, head and body, on keep-alive connections too', async () => {
    const { url, port } = await frontServer();
    const get = await fetch(`${url}/other?x=1`, { headers: { connection: 'close' } });
    expect(await get.json()).toEqual({
      method: 'GET',
      url: '/other?x=1',
      body: '',
      host: `127.0.0.1:${port}`,
    });
    const post = await fetch(`${url}/fast`, { method: 'POST', body: 'hello body' });
    expect(await post.json()).toMatchObject({ method: 'POST', url: '/fast', body: 'hello body' });
    // A head split over several packets, then a body arriving later.
    const text = await raw(port, [
      'POST /p HTTP/1.1\r\nHo',
      'st: x\r\nContent-Length: 5\r\nConnection: close\r\n',
      '\r\n',
      'ab',
      'cde',
    ]);
    expect(text).toContain('"body":"abcde"');
  });

  it('hands pipelined requests to node:http in order', async () => {
    const { port } = await frontServer();
    const text = await raw(port, [
      'GET /one HTTP/1.1\r\nHost: x\r\n\r\nGET /two HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    ]);
    expect(text.indexOf('/one')).toBeGreaterThan(-1);
    expect(text.indexOf('/two')).toBeGreaterThan(text.indexOf('/one'));
  });

  it('answers 431 to a head larger than the limit, and drops a client that never finishes its head', async () => {
    const { port } = await frontServer();
    const big = await raw(port, [`GET /x HTTP/1.1\r\nX-Big: ${'a'.repeat(2000)}`]);
    expect(big).toMatch(/^HTTP\/1\.1 431/);
    let closed = false;
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => {});
    socket.on('close', () => {
      closed = true;
    });
    socket.write('GET /slow HTTP/1.1\r\nHost: x\r\n');
    await waitFor(() => closed, 3000, 'the slow client to be dropped');
  });

  it('parses request heads strictly', () => {
    expect(parseRequestHead('GET /a?b=c HTTP/1.1\r\nHost: x\r\nX-A: 1\r\nx-a: 2')?.headers['x-a']).toBe(
      '1, 2',
    );
    expect(parseRequestHead('GET /a HTTP/1.0')?.httpVersion).toBe('1.0');
    expect(parseRequestHead('GET /a HTTP/2.0')).toBeUndefined();
    expect(parseRequestHead('GET  /a HTTP/1.1')).toBeUndefined();
    expect(parseRequestHead('GET /a HTTP/1.1\r\n folded: no')).toBeUndefined();
    expect(parseRequestHead('GET /a HTTP/1.1\r\nBad Name: x')).toBeUndefined();
    expect(parseRequestHead('G(T /a HTTP/1.1')).toBeUndefined();
  });
});
