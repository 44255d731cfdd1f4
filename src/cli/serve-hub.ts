/**
 * One process's hub server, as `siar serve` starts it (in its only process, or in each worker):
 * the hub, its server, listening, with the errors a user can act on.
 */
import { closeHubServer, createHubServer, type HubServer, type HubServerOptions } from '../hub/hub-server.js';
import { createHub, type Hub, type HubOptions } from '../hub/index.js';
import { UsageError } from './usage-error.js';

/** How long a shutdown waits for publishes in flight, in ms. */
export const SHUTDOWN_GRACE_MS = 5000;
/** Whatever hangs, `siar serve` exits within this many ms of SIGTERM. */
export const SHUTDOWN_BOUND_MS = 10_000;

/** What `siar serve` holds while it serves, in one process or in workers. */
export interface Serving {
  /** The port the hub listens on (the system's choice for port 0). */
  port: number;
  /** Shuts the hub down gracefully. */
  close(): Promise<void>;
  /** Resolves, with why, should the hub stop serving by itself (its workers failing again and again). */
  failed?: Promise<string>;
}

/** A hub listening in this process. */
export interface ServingHub {
  hub: Hub;
  server: HubServer;
  /** The port it listens on (the system's choice for port 0). */
  port: number;
}

/** Creates the hub and its server and listens; a `UsageError` (exit 1) says what went wrong. */
export async function startHub(
  options: HubOptions,
  serverOptions: HubServerOptions,
  port: number,
  host: string | undefined,
): Promise<ServingHub> {
  let hub: Hub;
  try {
    // createHub refuses a key it cannot use (an empty key file, say) at once; ready() the rest.
    hub = createHub(options);
    await hub.ready();
  } catch (error) {
    throw new UsageError(
      `${(error as Error).message}\nCheck the key and store options: siar serve --help lists them.`,
      1,
    );
  }
  let server: HubServer;
  try {
    server = createHubServer(hub, { ...serverOptions, logger: options.logger });
  } catch (error) {
    await hub.close();
    throw new UsageError(`Cannot serve with this certificate and key: ${(error as Error).message}`, 1);
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new UsageError(
          error.code === 'EADDRINUSE'
            ? `Port ${port} is already in use: pick another with --port.`
            : error.message,
          1,
        ),
      ),
    );
    server.listen(port, host, resolve);
  });
  const address = server.address();
  return { hub, server, port: typeof address === 'object' && address !== null ? address.port : port };
}

/** GOAWAY on HTTP/2 connections, publishes in flight finished, then `retry:` and the end of every stream. */
export function stopHub({ server }: ServingHub): Promise<void> {
  return closeHubServer(server, { graceMs: SHUTDOWN_GRACE_MS });
}
