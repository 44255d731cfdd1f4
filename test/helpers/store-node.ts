/**
 * One hub node on any store, as a process of its own (for tests that kill a node with SIGKILL):
 * started by startStoreNode (store-spec.ts), which passes '{"key": "…", "store": {StoreSpec}}'.
 * Prints "listening on http://127.0.0.1:<port>" once it serves.
 */
import { createServer } from 'node:http';
import { createHub } from '../../src/hub/index.js';
import { silentLogger } from '../../src/server/index.js';
import { makeStore, type StoreSpec } from './store-spec.js';

const options = JSON.parse(process.argv[2] ?? '{}') as { key: string; store: StoreSpec };
const hub = createHub({
  publisherJwt: { key: options.key },
  anonymous: true,
  subscriptions: true,
  heartbeatMs: 0,
  logger: silentLogger,
  store: makeStore(options.store),
});
await hub.ready();
const server = createServer(hub.handler);
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  process.stdout.write(`listening on http://127.0.0.1:${port}\n`);
});
