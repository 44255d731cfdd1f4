/**
 * One hub node on a Redis store, as a process of its own (for tests that kill a node with SIGKILL).
 * Run: node --import tsx test/helpers/redis-node.ts '{"key": "…", "store": {RedisStoreOptions}}'
 * Prints "listening on http://127.0.0.1:<port>" once it serves.
 */
import { createServer } from 'node:http';
import { createHub } from '../../src/hub/index.js';
import { RedisStore, type RedisStoreOptions } from '../../src/hub/stores/redis.js';
import { silentLogger } from '../../src/server/index.js';

const options = JSON.parse(process.argv[2] ?? '{}') as { key: string; store: RedisStoreOptions };
const hub = createHub({
  publisherJwt: { key: options.key },
  anonymous: true,
  subscriptions: true,
  heartbeatMs: 0,
  logger: silentLogger,
  store: new RedisStore({ ...options.store, logger: silentLogger }),
});
await hub.ready();
const server = createServer(hub.handler);
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  process.stdout.write(`listening on http://127.0.0.1:${port}\n`);
});
