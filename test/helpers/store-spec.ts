/**
 * A store as JSON (its name and options), made in this process or in a hub node of its own
 * (store-node.ts), for tests that kill a node with SIGKILL.
 */
import type { HubStore } from '../../src/hub/index.js';
import { MemoryStore } from '../../src/hub/stores/memory.js';
import { NatsStore } from '../../src/hub/stores/nats.js';
import { PostgresStore } from '../../src/hub/stores/postgres.js';
import { RedisStore } from '../../src/hub/stores/redis.js';
import { SqliteStore } from '../../src/hub/stores/sqlite.js';
import { type Logger, silentLogger } from '../../src/server/index.js';
import { type RunningProcess, spawnProcess } from './child-process.js';
import { type HubAddress, hubAddress } from './hub-process.js';
import type { Teardown } from './teardown.js';

export type StoreName = 'memory' | 'sqlite' | 'redis' | 'postgres' | 'nats';

/** A store as JSON: what a child process needs to make it. */
export interface StoreSpec {
  name: StoreName;
  options: Record<string, unknown>;
}

/** Makes the store a spec names (in this process or a child's). */
export function makeStore(spec: StoreSpec, logger: Logger = silentLogger): HubStore {
  const options = { ...spec.options, logger };
  switch (spec.name) {
    case 'memory':
      return new MemoryStore(spec.options);
    case 'sqlite':
      return new SqliteStore(options as unknown as ConstructorParameters<typeof SqliteStore>[0]);
    case 'redis':
      return new RedisStore(options as unknown as ConstructorParameters<typeof RedisStore>[0]);
    case 'postgres':
      return new PostgresStore(options as unknown as ConstructorParameters<typeof PostgresStore>[0]);
    case 'nats':
      return new NatsStore(options as unknown as ConstructorParameters<typeof NatsStore>[0]);
  }
}

/**
 * A hub node on `store` in a process of its own (store-node.ts: subscriptions on, anonymous
 * subscribers, `key` for tokens), once it listens; `teardown` kills it.
 */
export async function startStoreNode(
  teardown: Teardown,
  key: string,
  store: StoreSpec,
): Promise<RunningProcess & HubAddress> {
  const run = spawnProcess(
    process.execPath,
    ['--import', 'tsx', 'test/helpers/store-node.ts', JSON.stringify({ key, store })],
    { name: `store-node (${store.name})` },
  );
  teardown(() => run.kill());
  const [, url] = await run.waitFor(/listening on (\S+)/);
  return Object.assign(run, hubAddress(url as string));
}
