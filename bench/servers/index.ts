/**
 * The servers under test, by name. Each starts as a fresh child process on a free loopback port
 * for every run and is stopped after it.
 */

import type { Endpoints } from '../../src/cli/bench/endpoints.js';
import { freePort } from '../../test/helpers/net.js';
import { type Child, launch, waitForLine } from '../lib/children.js';
import type { TreeSample } from '../lib/proc.js';
import { hubServer } from './hub.js';
import { nchanServer } from './nchan.js';

export interface StartedServer {
  child: Child;
  endpoints: Endpoints;
  /** Samples the processes outside the tree that also work for this server (a store's engine), apart. */
  sampleStore?: () => TreeSample;
  /** Stops the server and removes what it left (temporary files, a store engine's keys, tables or streams). */
  stop(): Promise<void>;
}

export interface ServerUnderTest {
  name: ServerName;
  /** What the report calls it. */
  label: string;
  /** Undefined when it can run here, else why not (the report prints it). */
  unavailable(): Promise<string | undefined>;
  start(): Promise<StartedServer>;
}

export const SERVER_NAMES = [
  'nchan',
  'floor-res',
  'floor-socket',
  'better-sse',
  'siar-channel',
  'hub',
  'hub-sqlite',
  'hub-redis',
  'hub-postgres',
  'hub-nats',
  'hub-h2',
] as const;
export type ServerName = (typeof SERVER_NAMES)[number];

/** The endpoints of every peer (the node:http ones and nchan): GET /sub, POST /pub with the raw data. */
export function peerEndpoints(port: number): Endpoints {
  return {
    host: '127.0.0.1',
    port,
    subscribePath: '/sub',
    publishPath: '/pub',
    publishHeaders: { 'content-type': 'text/plain' },
    publishBody: 'raw',
  };
}

/** A hand-written node:http peer in bench/servers/<name>.ts, run with tsx. */
function nodePeer(name: ServerName, label: string): ServerUnderTest {
  return {
    name,
    label,
    unavailable: async () => undefined,
    async start() {
      const port = await freePort();
      const child = launch(name, process.execPath, [
        '--import',
        'tsx',
        `bench/servers/${name}.ts`,
        '--port',
        `${port}`,
      ]);
      try {
        await waitForLine(child, /^listening on/, 15_000);
      } catch (error) {
        await child.stop('SIGKILL');
        throw error;
      }
      return {
        child,
        endpoints: peerEndpoints(port),
        stop: () => child.stop('SIGTERM', 3000),
      };
    },
  };
}

export interface ServerOptions {
  /** Directory for V8 CPU profiles of the hub (`node --cpu-prof`); none when undefined. */
  profileDir?: string;
}

export function serversUnderTest(options: ServerOptions = {}): Map<ServerName, ServerUnderTest> {
  const list: ServerUnderTest[] = [
    nchanServer(),
    nodePeer('floor-res', 'Node floor (res.write)'),
    nodePeer('floor-socket', 'Node floor (socket.write)'),
    nodePeer('better-sse', 'better-sse'),
    nodePeer('siar-channel', 'siar/server Channel'),
    hubServer('hub', 'Siar hub (memory)', 'memory', options.profileDir),
    hubServer('hub-sqlite', 'Siar hub (SQLite)', 'sqlite', options.profileDir),
    hubServer('hub-redis', 'Siar hub (Redis)', 'redis', options.profileDir),
    hubServer('hub-postgres', 'Siar hub (PostgreSQL)', 'postgres', options.profileDir),
    hubServer('hub-nats', 'Siar hub (NATS)', 'nats', options.profileDir),
    hubServer('hub-h2', 'Siar hub (memory, HTTP/2 h2c)', 'memory', options.profileDir, 'h2c'),
  ];
  return new Map(list.map((server) => [server.name, server]));
}
