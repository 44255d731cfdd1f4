/**
 * The Node floor with socket writes: like floor-res, but each event is encoded once as a complete
 * HTTP/1.1 chunk (size line, bytes, CRLF) and written straight to each subscriber's `net.Socket`,
 * bypassing `ServerResponse` (which corks the socket until the next tick on every write).
 * Replay: a ring of the newest chunks, by integer event ID.
 */
import { createServer } from 'node:http';
import type { Socket } from 'node:net';
import { History, listen, portArgument, readBody, SSE_HEADERS } from './peer.js';

const subscribers = new Set<Socket>();
const history = new History<Buffer>();
let lastId = 0;

function chunk(frame: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${frame.length.toString(16)}\r\n`), frame, Buffer.from('\r\n')]);
}

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url?.startsWith('/sub')) {
    res.writeHead(200, SSE_HEADERS);
    res.flushHeaders();
    const socket = res.socket;
    if (socket === null) return;
    for (const frame of history.after(req.headers['last-event-id'] as string | undefined))
      socket.write(frame);
    subscribers.add(socket);
    res.once('close', () => subscribers.delete(socket));
    return;
  }
  if (req.method === 'POST' && req.url === '/pub') {
    readBody(req).then((data) => {
      lastId++;
      const frame = chunk(Buffer.concat([Buffer.from(`id: ${lastId}\ndata: `), data, Buffer.from('\n\n')]));
      history.push(frame);
      for (const socket of subscribers) socket.write(frame);
      res.writeHead(200).end();
    });
    return;
  }
  res.writeHead(404).end();
});

listen(server, portArgument());
