import type { Server, Socket } from 'node:net';
import type { Logger } from '../server/logger.js';
import { BurstLog } from './burst-log.js';

/** What a refused client is told to wait before it comes back (s). */
const REFUSED_RETRY_AFTER_S = 2;
/** Errors of `accept(2)` that say the process or the system is out of descriptors. */
const OUT_OF_DESCRIPTORS = new Set(['EMFILE', 'ENFILE']);

/** Process-wide counts of the servers' doors, read by `/metrics`. */
export interface ConnectionStats {
  /** Connections refused at once because the server held as many as its descriptors allow. */
  refused: number;
  /** Connections `accept(2)` could not take: the process (EMFILE) or the system (ENFILE) out of descriptors. */
  acceptErrors: number;
}

/** The live counts; read them, do not write them. */
export const connectionStats: ConnectionStats = { refused: 0, acceptErrors: 0 };

const body = 'The hub holds as many connections as its descriptor limit allows. Try again shortly.\n';
const REFUSAL = Buffer.from(
  `HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\n` +
    `retry-after: ${REFUSED_RETRY_AFTER_S}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
    `connection: close\r\n\r\n${body}`,
  'latin1',
);

function ignoreError(): void {}

export interface ConnectionLimitOptions {
  /** Most connections open at once. */
  maxConnections: number;
  /** True for a cleartext HTTP/1.1 server, whose refused clients get a 503; over TLS they are closed. */
  cleartextHttp1: boolean;
  logger: Logger;
}

/**
 * The server's door. Past `maxConnections` a new connection is answered 503 with `Retry-After` at
 * once, before its request is read (over TLS, where nothing can be said before a handshake, it is
 * closed), so that a busy hub never runs out of descriptors: a process that has none left cannot
 * even accept a connection to refuse it, and libuv then closes what waits to be accepted unanswered.
 * When `accept(2)` fails anyway (EMFILE, ENFILE), the server's 'error' is counted and logged once
 * per burst instead of crashing the process.
 */
export function limitConnections(server: Server, options: ConnectionLimitOptions): void {
  const { maxConnections, cleartextHttp1 } = options;
  let open = 0;
  const refusedLog = new BurstLog(
    options.logger,
    'Refusing connections: the hub holds as many as its descriptor limit allows (503 with Retry-After).',
  );
  const acceptLog = new BurstLog(
    options.logger,
    'Could not accept connections: out of file descriptors. Raise the limit (ulimit -n) or lower --max-subscribers.',
  );
  const closed = () => {
    open--;
  };
  // The server's own handling (node:http's, the fast path's, TLS's), for the connections let in.
  const listeners = server.listeners('connection') as Array<(socket: Socket) => void>;
  server.removeAllListeners('connection');
  server.on('connection', (socket: Socket) => {
    open++;
    socket.once('close', closed);
    if (open > maxConnections) {
      connectionStats.refused++;
      refusedLog.note({ connections: open - 1, maxConnections });
      socket.on('error', ignoreError);
      // The answer goes to the kernel at once (a fresh connection's first bytes are sent as they are
      // written), and the descriptor is released at once too: libuv accepts every connection waiting
      // in one go, so a refused one that lingered would hold a descriptor the next one needs. A
      // request already received and unread makes the close a reset, which follows the answer; Linux
      // clients read the answer first.
      if (cleartextHttp1) socket.write(REFUSAL);
      socket.destroy();
      return;
    }
    for (const listener of listeners) listener.call(server, socket);
  });
  server.on('error', (error: NodeJS.ErrnoException) => {
    if (error.syscall === 'accept' && OUT_OF_DESCRIPTORS.has(error.code ?? '')) {
      connectionStats.acceptErrors++;
      acceptLog.note({ code: error.code, connections: open });
      return;
    }
    // Any other error is the host's to handle (EADDRINUSE on listen…): as if this listener were not here.
    if (server.listenerCount('error') === 1) throw error;
  });
}
