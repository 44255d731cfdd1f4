/**
 * The Node floor: a minimal node:http fan-out. Each event is encoded once into a Buffer and
 * written with `res.write` to every subscriber's response (Node does the chunked framing).
 * Replay: a ring of the newest frames, by integer event ID.
 */
import { createServer, type ServerResponse } from 'node:http';
import { History, listen, portArgument, readBody, SSE_HEADERS } from './peer.js';

const subscribers = new Set<ServerResponse>();
const history = new History<Buffer>();
let lastId = 0;

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url?.startsWith('/sub')) {
    res.writeHead(200, SSE_HEADERS);
    res.flushHeaders();
    for (const frame of history.after(req.headers['last-event-id'] as string | undefined)) res.write(frame);
    subscribers.add(res);
    res.once('close', () => subscribers.delete(res));
    return;
  }
  if (req.method === 'POST' && req.url === '/pub') {
    readBody(req).then((data) => {
      lastId++;
      const frame = Buffer.concat([Buffer.from(`id: ${lastId}\ndata: `), data, Buffer.from('\n\n')]);
      history.push(frame);
      for (const subscriber of subscribers) subscriber.write(frame);
      res.writeHead(200).end();
    });
    return;
  }
  res.writeHead(404).end();
});

listen(server, portArgument());
