import { connect, createServer, type Socket } from 'node:net';

/**
 * A real TCP proxy on 127.0.0.1 (port 0) in front of a service, for injecting network faults into
 * one client's link: reset every connection (RST, as a crashed peer or a dropped NAT entry), refuse
 * new ones (the service gone), or stop passing bytes with the connections left open (a partition).
 */
export interface TcpProxy {
  port: number;
  /** Connections open now. */
  readonly connections: number;
  /** Resets every connection; returns how many. */
  resetAll(): number;
  /** While on, new connections are reset as soon as they arrive (and `resetAll` ends the others). */
  refuse(on: boolean): void;
  /** While on, bytes are held back in both directions (connections stay open, nothing arrives). */
  pause(on: boolean): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  const pairs = new Set<{ client: Socket; upstream: Socket }>();
  let refusing = false;
  let paused = false;
  const server = createServer((client) => {
    if (refusing) {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(targetPort, targetHost);
    const pair = { client, upstream };
    pairs.add(pair);
    const end = () => {
      pairs.delete(pair);
      if (!client.destroyed) client.resetAndDestroy();
      if (!upstream.destroyed) upstream.resetAndDestroy();
    };
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
    // Held back while paused: data waits in the socket buffers (and then the kernel's) until resumed.
    client.on('data', (chunk) => {
      if (!upstream.write(chunk)) client.pause();
    });
    upstream.on('data', (chunk) => {
      if (!client.write(chunk)) upstream.pause();
    });
    client.on('drain', () => {
      if (!paused) upstream.resume();
    });
    upstream.on('drain', () => {
      if (!paused) client.resume();
    });
    if (paused) {
      client.pause();
      upstream.pause();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('the proxy has no port');
  const resetAll = () => {
    const count = pairs.size;
    for (const { client, upstream } of [...pairs]) {
      client.resetAndDestroy();
      upstream.resetAndDestroy();
    }
    pairs.clear();
    return count;
  };
  return {
    port: address.port,
    get connections() {
      return pairs.size;
    },
    resetAll,
    refuse(on) {
      refusing = on;
    },
    pause(on) {
      paused = on;
      for (const { client, upstream } of pairs) {
        if (on) {
          client.pause();
          upstream.pause();
        } else {
          client.resume();
          upstream.resume();
        }
      }
    },
    async close() {
      resetAll();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
