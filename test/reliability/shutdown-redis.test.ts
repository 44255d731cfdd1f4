// SIGTERM to `siar serve` while its Redis does not answer (a network partition, a Redis that hangs):
// the hub must still close, and the process exit within its shutdown bound, not wait on the store
// for ever.
import { expect, it } from 'vitest';
import { createHub } from '../../src/hub/index.js';
import { RedisStore } from '../../src/hub/stores/redis.js';
import { silentLogger } from '../../src/server/index.js';
import { waitFor } from '../helpers/net.js';
import { describeRedis, startCliHub, startRedisServer, useTeardown } from '../helpers/redis.js';

describeRedis('siar serve on SIGTERM with a Redis that stopped answering', () => {
  const teardown = useTeardown();

  it('exits within its bound (10 s) instead of waiting on the store', async () => {
    const redis = await startRedisServer();
    teardown(() => redis.stop());
    const hub = await startCliHub(redis.url);
    teardown(() => hub.child.kill());
    // Frozen: its connections stay open, nothing comes back on them.
    redis.child.process.kill('SIGSTOP');
    teardown(() => redis.child.process.kill('SIGCONT'));
    const stopped = Date.now();
    hub.child.process.kill('SIGTERM');
    let exited = false;
    void hub.child.exited.then(() => {
      exited = true;
    });
    // The CLI's bound is 10 s; a little more for the process to go.
    await waitFor(() => exited, 20_000, 'siar serve to exit');
    // The store gives up on Redis after a second, so the shutdown completes (before that fix, the
    // 10-second bound ended the process with status 1; before the bound's own fix, nothing did).
    expect(hub.child.process.exitCode).toBe(0);
    console.info(`siar serve exited ${Date.now() - stopped} ms after SIGTERM, its Redis frozen`);
  }, 40_000);

  it('closes an embedded hub all the same: the store gives up on its goodbye to Redis', async () => {
    const redis = await startRedisServer();
    teardown(() => redis.stop());
    const hub = createHub({
      store: new RedisStore({ url: redis.url }),
      logger: silentLogger,
      anonymous: true,
    });
    await hub.ready();
    redis.child.process.kill('SIGSTOP');
    teardown(() => redis.child.process.kill('SIGCONT'));
    let closed = false;
    void hub.close({ graceMs: 100 }).then(() => {
      closed = true;
    });
    await waitFor(() => closed, 10_000, 'hub.close() to resolve');
  }, 30_000);
});
