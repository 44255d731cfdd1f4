// README.md's "Workers in your own program" example, run by embedded.test.ts: the same code, with
// the port, the number of workers and a line saying where each worker listens.
import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import {
  closeHubServer,
  createHub,
  createHubServer,
  HubPrimary,
  joinHubPrimary,
} from '../../src/hub/index.js';

const workers = Number(process.env.WORKERS ?? availableParallelism());

if (cluster.isPrimary) {
  // The history (memory here; a SqliteStore works too) and the limits of the whole hub live here.
  const primary = await HubPrimary.open({ maxSubscribers: 100_000 });
  let stopping = false;
  cluster.on('exit', () => stopping || cluster.fork()); // a worker that dies is replaced
  for (let i = 0; i < workers; i++) cluster.fork();
  process.once('SIGTERM', () => {
    stopping = true;
    primary.shutdown(5000); // every worker finishes its publishes, then ends its streams with retry:
    let left = workers;
    cluster.on('exit', () => --left === 0 && primary.close());
  });
} else {
  const { store, group, shutdown } = await joinHubPrimary();
  const hub = createHub({ publisherJwt: { key: process.env.KEY as string }, anonymous: true, store, group });
  const server = createHubServer(hub);
  server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
    const address = server.address();
    console.log(`worker listening on http://127.0.0.1:${typeof address === 'object' && address?.port}`);
  });
  await closeHubServer(server, await shutdown);
  process.exit(0);
}
