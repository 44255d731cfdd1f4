/**
 * better-sse (npm) on node:http, as its README shows it: `createSession` per subscriber,
 * `createChannel().broadcast(data, 'message', { eventId })` per event, default session options
 * (JSON serializer, `retry: 2000` on connect, a keep-alive comment every 10 s per session).
 * better-sse keeps no history ("coming soon", its issue 16), so the bench adds a ring: a
 * reconnecting session is sent what it missed with `session.push` before it joins the channel.
 */
import { createServer } from 'node:http';
import { createChannel, createSession } from 'better-sse';
import { History, listen, portArgument, readBody } from './peer.js';

const channel = createChannel();
const history = new History<{ id: string; data: string }>();
let lastId = 0;

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url?.startsWith('/sub')) {
    createSession(req, res).then((session) => {
      for (const missed of history.after(session.lastId)) session.push(missed.data, 'message', missed.id);
      channel.register(session);
    });
    return;
  }
  if (req.method === 'POST' && req.url === '/pub') {
    readBody(req).then((body) => {
      lastId++;
      const event = { id: String(lastId), data: body.toString() };
      history.push(event);
      channel.broadcast(event.data, 'message', { eventId: event.id });
      res.writeHead(200).end();
    });
    return;
  }
  res.writeHead(404).end();
});

listen(server, portArgument());
