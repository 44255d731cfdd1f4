import type { ClientRequest, OutgoingHttpHeaders } from 'node:http';
import type { Agent } from 'node:https';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { NodeModules } from './node-modules.js';
import type { TlsOptions } from './tls.js';

/** The limits of {@link Http1Connections}, from the pool's options. */
export interface Http1Limits {
  /** Most connections open at once; requests past it wait for one to be free. */
  maxConnections: number;
  /** Most connections kept open with no request on them. */
  maxIdle: number;
  /** How long a connection with no request stays open for the next one, in ms; 0: none is kept. */
  idleTimeoutMs: number;
}

/**
 * The HTTP/1.1 connections to one origin whose server chose HTTP/1.1 by ALPN, in a keep-alive
 * `https.Agent`: a request goes out on a connection an earlier response has ended on (an EventSource
 * reconnecting after the server ended the stream, a refusal's body read to its end), else on a new
 * one, at most `maxConnections` at once. A connection with no request does not keep the process
 * alive, and closes after `idleTimeoutMs`. The first connection is the one ALPN was asked on; when
 * the last one closes, `onEmpty` runs (the pool forgets the origin, and the next request asks ALPN
 * again).
 */
export class Http1Connections {
  readonly #node: NodeModules;
  readonly #agent: Agent;
  /** The connection ALPN was asked on, until a request takes it. */
  #spare: TLSSocket | undefined;
  #open = 0;
  #closed = false;
  readonly #onEmpty: () => void;

  constructor(
    node: NodeModules,
    first: TLSSocket,
    tls: TlsOptions | undefined,
    limits: Http1Limits,
    onEmpty: () => void,
  ) {
    this.#node = node;
    this.#onEmpty = onEmpty;
    this.#spare = first;
    this.#track(first);
    const agent = new node.https.Agent({
      keepAlive: true,
      maxSockets: limits.maxConnections,
      maxFreeSockets: limits.maxIdle,
      // The agent closes a free connection when this runs out (a busy one is given no timeout: see request()).
      timeout: limits.idleTimeoutMs,
      ALPNProtocols: ['http/1.1'],
      ...tls,
    });
    const connect = agent.createConnection.bind(agent);
    agent.createConnection = (options, callback) => {
      const spare = this.#spare;
      this.#spare = undefined;
      const socket = spare ?? connect(options, callback);
      if (socket !== null && socket !== undefined && spare === undefined) this.#track(socket);
      return socket;
    };
    const keepAlive = agent.keepSocketAlive.bind(agent) as (socket: Duplex) => boolean;
    agent.keepSocketAlive = (socket) => !this.#closed && limits.idleTimeoutMs > 0 && keepAlive(socket);
    this.#agent = agent;
  }

  /** A request on one of the connections (`timeout: 0`: an event stream may be quiet for long). */
  request(url: URL, method: string, headers: OutgoingHttpHeaders): ClientRequest {
    return this.#node.https.request(url, { method, headers, agent: this.#agent, timeout: 0 });
  }

  /** Lets go of the connection ALPN was asked on if no request took it (the fetch was aborted). */
  discardSpare(): void {
    this.#spare?.destroy();
    this.#spare = undefined;
  }

  /** Closes the connections with no request now, and the others as soon as their response ends. */
  close(): void {
    this.#closed = true;
    this.discardSpare();
    for (const sockets of Object.values(this.#agent.freeSockets)) {
      for (const socket of sockets ?? []) socket.destroy();
    }
  }

  #track(socket: Duplex): void {
    this.#open++;
    socket.once('close', () => {
      if (--this.#open === 0) this.#onEmpty();
    });
  }
}
