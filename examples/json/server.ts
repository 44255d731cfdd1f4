// JSON: objects `{ message, time }` every 5 s, as in the seed's PHP and Go servers; the page
// (index.html) parses each one with JSON.parse. `pipe` sends each item of the generator as one
// event, as JSON since it is not a string, and stops pulling it when the client goes away.
//
//   npm run example:json      then open http://localhost:3004
import { readFile } from 'node:fs/promises';
import { setInterval as every } from 'node:timers/promises';
import { createEventStream, pipe, refuse } from '../../src/server/index.js';
import { envPort, isMain, pathOf, type Running, sendHtml, serve } from '../serve.js';

export interface JsonOptions {
  port?: number;
  host?: string;
  /** Time between two messages, in ms. Default 5000. */
  intervalMs?: number;
}

const unixTime = () => Math.floor(Date.now() / 1000);

async function* messages(intervalMs: number) {
  yield { message: 'Hello from Siar!', time: unixTime() };
  for await (const _ of every(intervalMs)) yield { message: 'Another message from Siar!', time: unixTime() };
}

export async function startJson(options: JsonOptions = {}): Promise<Running> {
  const { port = 3004, host = 'localhost', intervalMs = 5000 } = options;
  const page = await readFile(new URL('./index.html', import.meta.url));
  return serve(port, host, (req, res) => {
    const path = pathOf(req);
    if (path === '/') return sendHtml(res, page);
    if (path !== '/events') return refuse(res, 404, 'Not found: open / or /events.');
    void pipe(messages(intervalMs), createEventStream(req, res));
  });
}

if (isMain(import.meta.url)) {
  const { url } = await startJson({ port: envPort('PORT', 3004) });
  console.log(`JSON messages: open ${url} (or curl -N ${url}/events)`);
}
