// Counter: a stream that sends an incrementing number every 2 s and stops after a limit, like the Go
// handler of the seed tutorial (loop, write `data: n`, flush, sleep; return when the client leaves).
//
//   npm run example:counter      then: curl -N http://localhost:3001/stream
//
// Each number is also the event's `id`, so a browser that reconnects resumes where it was; once the
// limit is reached its next reconnection gets 204 No Content, which stops an EventSource for good.
import { createEventStream, endForGood, readLastEventId, refuse } from '../../src/server/index.js';
import { envPort, isMain, pathOf, type Running, serve } from '../serve.js';

export interface CounterOptions {
  port?: number;
  host?: string;
  /** Time between two numbers, in ms. Default 2000. */
  intervalMs?: number;
  /** The last number sent; then the stream ends. Default 10. */
  limit?: number;
  log?: (line: string) => void;
}

export function startCounter(options: CounterOptions = {}): Promise<Running> {
  const { port = 3001, host = 'localhost', intervalMs = 2000, limit = 10, log = console.log } = options;
  return serve(port, host, (req, res) => {
    if (pathOf(req) !== '/stream') return refuse(res, 404, 'Not found: the stream is at /stream.');
    let n = Number(readLastEventId(req.headers, req.url)) || 0;
    if (n >= limit) return endForGood(res);

    const stream = createEventStream(req, res);
    log(`client connected, counting from ${n + 1}`);
    const timer = setInterval(() => {
      n++;
      stream.send({ id: String(n), data: String(n) });
      log(`sent ${n}`);
      if (n >= limit) stream.close();
    }, intervalMs);
    // Whoever ends the stream (the limit, or the client going away), the loop stops at once.
    stream.on('close', () => {
      clearInterval(timer);
      log(`stream closed after ${n}`);
    });
  });
}

if (isMain(import.meta.url)) {
  const { url } = await startCounter({ port: envPort('PORT', 3001) });
  console.log(`Counter at ${url}/stream (try: curl -N ${url}/stream)`);
}
