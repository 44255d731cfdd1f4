/**
 * siar/server's Channel on node:http: `createEventStream` per subscriber, `channel.broadcast`
 * per event (encoded once, the same bytes written to every stream), default stream options
 * (a shared heartbeat timer every 15 s, the 1 MiB slow-consumer limit). Replay: the channel's
 * own history (`historySize`), by `Last-Event-ID`.
 */
import { createServer } from 'node:http';
import { createChannel, createEventStream } from '../../src/server/index.js';
import { HISTORY, listen, portArgument, readBody } from './peer.js';

const channel = createChannel({ historySize: HISTORY });
let lastId = 0;

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url?.startsWith('/sub')) {
    channel.replay(createEventStream(req, res));
    return;
  }
  if (req.method === 'POST' && req.url === '/pub') {
    readBody(req).then((body) => {
      lastId++;
      channel.broadcast({ id: String(lastId), data: body.toString() });
      res.writeHead(200).end();
    });
    return;
  }
  res.writeHead(404).end();
});

listen(server, portArgument());
