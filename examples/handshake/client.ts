// The seed's Go client, in TypeScript: open /handshake (TRY_OPEN_CONNECTION), print every message
// (WAITING_MESSAGE), and when the connection fails or ends, as when the server restarts, wait and
// open it again, for ever. Plain `fetch` and the protocol's parser.
//
//   node --import tsx examples/handshake/client.ts [http://localhost:3006/handshake]
import { setTimeout as sleep } from 'node:timers/promises';
import { createParser } from '../../src/protocol/index.js';
import { isMain } from '../serve.js';

export interface HandshakeClientOptions {
  onMessage: (message: string) => void;
  /** Called each time the connection opens (again). */
  onOpen?: () => void;
  /** Wait before connecting again, in ms, until the server says otherwise with `retry:`. Default 1000. */
  retryMs?: number;
  log?: (line: string) => void;
}

export function connect(url: string, options: HandshakeClientOptions): { close(): void } {
  const { onMessage, onOpen, log = console.log } = options;
  let retryMs = options.retryMs ?? 1000;
  const stop = new AbortController();
  const parser = createParser({
    onEvent: (event) => onMessage(event.data),
    onRetry: (ms) => {
      retryMs = ms;
    },
  });

  async function run() {
    while (!stop.signal.aborted) {
      try {
        const response = await fetch(url, { headers: { accept: 'text/event-stream' }, signal: stop.signal });
        if (response.status !== 200 || response.body === null) throw new Error(`HTTP ${response.status}`);
        log('connection established');
        onOpen?.();
        const reader = response.body.getReader();
        for (let read = await reader.read(); !read.done; read = await reader.read()) parser.feed(read.value);
        log('the server ended the stream');
      } catch (error) {
        if (stop.signal.aborted) return;
        log(`connection lost: ${error instanceof Error ? error.message : error}`);
      }
      parser.reset(); // an event cut in the middle is dropped, as the standard says
      await sleep(retryMs, undefined, { signal: stop.signal }).catch(() => {});
    }
  }

  void run();
  return { close: () => stop.abort() };
}

if (isMain(import.meta.url)) {
  const url = process.argv[2] ?? 'http://localhost:3006/handshake';
  console.log(`Listening to ${url}`);
  connect(url, { onMessage: (message) => console.log(`message: ${message}`) });
}
