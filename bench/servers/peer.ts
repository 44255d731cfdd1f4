/**
 * What the hand-written peer servers share: the port from `--port`, the request body, a bounded
 * history of encoded frames for `Last-Event-ID` replay, and the ready line the orchestrator
 * waits for. Each peer serves `GET /sub` (an event stream) and `POST /pub` (body = the event
 * data, broadcast to every subscriber, answered 200 once the broadcast loop has run).
 */
import type { IncomingMessage, Server } from 'node:http';
import { parseArgs } from 'node:util';

/** Frames kept for replay: well above the 100 missed updates of the reconnect storm. */
export const HISTORY = 1000;

export const SSE_HEADERS = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
};

export function portArgument(): number {
  const { values } = parseArgs({ options: { port: { type: 'string' } } });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port <= 0) throw new Error('--port <port> is required');
  return port;
}

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
}

/**
 * The newest `size` items with increasing integer IDs (1, 2, 3…): `after(id)` gives those
 * published after `id`, or all it holds when `id` is older than the history.
 */
export class History<T> {
  private readonly items: T[] = [];
  private first = 1;

  constructor(private readonly size: number = HISTORY) {}

  push(item: T): void {
    this.items.push(item);
    if (this.items.length > this.size) {
      this.items.shift();
      this.first++;
    }
  }

  after(lastEventId: string | undefined): T[] {
    if (lastEventId === undefined || lastEventId === '') return [];
    const id = Number(lastEventId);
    if (!Number.isInteger(id)) return [];
    return this.items.slice(Math.max(0, id + 1 - this.first));
  }
}

/** Listens on the loopback interface and prints the line the orchestrator waits for. */
export function listen(server: Server, port: number): void {
  server.listen(port, '127.0.0.1', () => process.stdout.write(`listening on ${port}\n`));
  process.once('SIGTERM', () => process.exit(0));
}
