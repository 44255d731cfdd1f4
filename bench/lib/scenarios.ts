/**
 * The scenarios of the benchmark, their sizes (full and `--quick`), and which servers run each.
 * (f), the stores, is not a run of its own: the hub with each store runs (a), (d) and (e), and the
 * report compares them.
 */
import type { ServerName } from '../servers/index.js';

/** Bytes of every event's data. */
export const DATA_BYTES = 100;
/** Streams opening at once, at most: under the listen backlog of 511 every server has. */
export const CONNECT_WINDOW = 500;

export interface FanoutParams {
  kind: 'fanout';
  subscribers: number;
  /** Updates measured, published one after the other as fast as they are acknowledged. */
  updates: number;
  /** Updates published (and received by all) before the measure, so the servers' code is warm. */
  warmup: number;
}

export interface LatencyParams {
  kind: 'latency';
  subscribers: number;
  updates: number;
  /** Updates per second, on a fixed schedule. */
  rate: number;
  warmup: number;
}

export interface IdleParams {
  kind: 'idle';
  subscribers: number;
  /** Wait after the last stream opened before memory is read; idle CPU is measured over it. */
  settleMs: number;
}

export interface PublishParams {
  kind: 'publish';
  /** Subscriber counts, each measured with each publisher count. */
  subscribers: number[];
  /** Concurrent keep-alive publishers. */
  publishers: number[];
  /** Length of each measure. */
  durationMs: number;
}

export interface ReconnectParams {
  kind: 'reconnect';
  subscribers: number;
  /** Updates published while the subscribers are away, replayed to each when it comes back. */
  missed: number;
}

export type ScenarioParams = FanoutParams | LatencyParams | IdleParams | PublishParams | ReconnectParams;
export type ScenarioId = 'a' | 'b' | 'c' | 'd' | 'e';
export type ScenarioName = 'fanout' | 'latency' | 'idle' | 'publish' | 'reconnect';

export interface Scenario {
  /** The letter the report heads its section with (and `--only` accepts). */
  id: ScenarioId;
  /** What the report finds it by (and `--only` accepts). */
  name: ScenarioName;
  title: string;
  params: ScenarioParams;
  servers: readonly ServerName[];
}

const PEERS: readonly ServerName[] = [
  'nchan',
  'floor-res',
  'floor-socket',
  'better-sse',
  'siar-channel',
  'hub',
];
const WITH_STORES: readonly ServerName[] = [...PEERS, 'hub-sqlite', 'hub-redis', 'hub-postgres', 'hub-nats'];
/** The hub over HTTP/2 (h2c), against itself over HTTP/1.1, in the scenarios where delivery cost and latency show. */
const WITH_H2: readonly ServerName[] = [...WITH_STORES, 'hub-h2'];
/** The servers that make up (f). */
export const STORE_SERVERS: readonly ServerName[] = [
  'hub',
  'hub-sqlite',
  'hub-redis',
  'hub-postgres',
  'hub-nats',
];
export const STORE_SCENARIOS: readonly ScenarioName[] = ['fanout', 'publish', 'reconnect'];

export function scenarios(quick: boolean): Scenario[] {
  return [
    {
      id: 'a',
      name: 'fanout',
      title: 'Fan-out',
      params: quick
        ? { kind: 'fanout', subscribers: 200, updates: 50, warmup: 5 }
        : { kind: 'fanout', subscribers: 1000, updates: 200, warmup: 10 },
      servers: WITH_H2,
    },
    {
      id: 'b',
      name: 'latency',
      title: 'Latency',
      params: quick
        ? { kind: 'latency', subscribers: 1000, updates: 10, rate: 10, warmup: 3 }
        : { kind: 'latency', subscribers: 10_000, updates: 50, rate: 10, warmup: 5 },
      servers: [...PEERS, 'hub-h2'],
    },
    {
      id: 'c',
      name: 'idle',
      title: 'Idle scale',
      params: quick
        ? { kind: 'idle', subscribers: 3000, settleMs: 1000 }
        : { kind: 'idle', subscribers: 19_800, settleMs: 3000 },
      servers: PEERS,
    },
    {
      id: 'd',
      name: 'publish',
      title: 'Publish throughput',
      params: {
        kind: 'publish',
        subscribers: quick ? [0, 200] : [0, 1000],
        publishers: [1, 8],
        durationMs: quick ? 500 : 2000,
      },
      servers: WITH_STORES,
    },
    {
      id: 'e',
      name: 'reconnect',
      title: 'Reconnect storm',
      params: quick
        ? { kind: 'reconnect', subscribers: 500, missed: 100 }
        : { kind: 'reconnect', subscribers: 5000, missed: 100 },
      servers: WITH_STORES,
    },
  ];
}
