// The seed's Go client, in TypeScript: open /handshake, print every message, and when the connection
// fails or ends (the server restarted, say), wait and open it again. siar/client's EventSource does
// that by itself, as a browser's does: it waits the reconnection time (the server's `retry:` hint,
// 3 s without one) and reconnects, for as long as the server is unreachable, until `close()`.
//
//   node --import tsx examples/handshake/client.ts [http://localhost:3006/handshake]
import { EventSource } from '../../src/client/index.js';
import { isMain } from '../serve.js';

export interface HandshakeClientOptions {
  onMessage: (message: string) => void;
  /** Called each time the connection opens (again). */
  onOpen?: () => void;
  log?: (line: string) => void;
}

export function connect(url: string, options: HandshakeClientOptions): { close(): void } {
  const { onMessage, onOpen, log = console.log } = options;
  const source = new EventSource(url);
  source.onopen = () => {
    log('connection established');
    onOpen?.();
  };
  source.onmessage = (event) => onMessage(event.data);
  // `message` says what happened and whether it reconnects (a status other than 200 stops it for good).
  source.onerror = (event) => log(`connection lost: ${event.message}`);
  return source;
}

if (isMain(import.meta.url)) {
  const url = process.argv[2] ?? 'http://localhost:3006/handshake';
  console.log(`Listening to ${url}`);
  connect(url, { onMessage: (message) => console.log(`message: ${message}`) });
}
