// Handshake: the seed's Go server (mirzaakhena/sse). A client's GET /handshake is held open as an
// event stream; GET or POST /sendmessage pushes a message to every client connected at that moment.
//
//   npm run example:handshake                                   the server, on http://localhost:3006
//   node --import tsx examples/handshake/client.ts              the Node client, in another terminal
//   curl 'http://localhost:3006/sendmessage?message=Hello'      or: curl -d Hello http://localhost:3006/sendmessage
//
// Stop and restart the server: the client reconnects by itself and gets the messages sent after.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createChannel, createEventStream, refuse } from '../../src/server/index.js';
import { envPort, isMain, pathOf, type Running, readBody, serve } from '../serve.js';

export interface HandshakeOptions {
  port?: number;
  host?: string;
  /** How long a client waits before reconnecting (the `retry:` hint), in ms. Default 1000. */
  retryMs?: number;
  log?: (line: string) => void;
}

export function startHandshake(options: HandshakeOptions = {}): Promise<Running> {
  const { port = 3006, host = 'localhost', retryMs = 1000, log = console.log } = options;
  // Every connected client; a client leaves by itself when its connection closes.
  const clients = createChannel();

  function handshake(req: IncomingMessage, res: ServerResponse) {
    const stream = createEventStream(req, res, { retry: retryMs });
    clients.add(stream);
    log(`client connected (${clients.size} connected)`);
    stream.on('close', () => log(`client disconnected (${clients.size} connected)`));
  }

  async function sendMessage(req: IncomingMessage, res: ServerResponse) {
    const query = new URL(req.url ?? '/', 'http://localhost').searchParams;
    const message = req.method === 'POST' ? await readBody(req) : (query.get('message') ?? 'Hello');
    const sent = clients.broadcast({ data: message });
    log(`sent ${JSON.stringify(message)} to ${sent} client(s)`);
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(`Sent to ${sent} client(s).\n`);
  }

  return serve(port, host, (req, res) => {
    const path = pathOf(req);
    if (path === '/handshake') return handshake(req, res);
    if (path === '/sendmessage') return void sendMessage(req, res).catch(() => res.destroy());
    refuse(res, 404, 'Not found: GET /handshake, GET or POST /sendmessage.');
  });
}

if (isMain(import.meta.url)) {
  const { url } = await startHandshake({ port: envPort('PORT', 3006) });
  console.log(`Handshake server at ${url}`);
  console.log(`  listen:  node --import tsx examples/handshake/client.ts ${url}/handshake`);
  console.log(`  send:    curl '${url}/sendmessage?message=Hello'`);
}
