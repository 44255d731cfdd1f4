// SIGTERM to `siar serve` while its Redis does not answer (a network partition, a Redis that hangs):
// the hub must still close, and the process exit within its shutdown bound, not wait on the store
// for ever.
import { expect, it } from 'vitest';
import { createHub } from '../../src/hub/index.js';
import { RedisStore } from '../../src/hub/stores/redis.js';
import { silentLogger } from '../../src/server/index.js';
import { startHubProcess } from '../helpers/hub-process.js';
import { waitFor } from '../helpers/net.js';
import { describeRedis, startRedisServer } from '../helpers/redis.js';
import { cleanupAfterEach } from '../helpers/teardown.js';

describeRedis('siar serve on SIGTERM with a Redis that stopped answering', () => {
  const teardown = cleanupAfterEach();

  it('exits within its bound (10 s) instead of waiting on the store', async () => {
    const redis = await startRedisServer();
    teardown(() => redis.stop());
    const hub = await startHubProcess(teardown, { args: ['--store', redis.url] });
    // Frozen: its connections stay open, nothing comes back on them.
    redis.signal('SIGSTOP');
    teardown(() => redis.signal('SIGCONT'));
    const stopped = Date.now();
    hub.child.kill('SIGTERM');
    let exited = false;
    void hub.exited.then(() => {
      exited = true;
    });
    // The CLI's bound is 10 s; a little more for the process to go.
    await waitFor(() => exited, 20_000, 'siar serve to exit');
    // The store gives up on Redis after a second, so the shutdown completes (before that fix, the
    // 10-second bound ended the process with status 1; before the bound's own fix, nothing did).
    expect(hub.child.exitCode).toBe(0);
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
    redis.signal('SIGSTOP');
    teardown(() => redis.signal('SIGCONT'));
    let closed = false;
    void hub.close({ graceMs: 100 }).then(() => {
      closed = true;
    });
    await waitFor(() => closed, 10_000, 'hub.close() to resolve');
  }, 30_000);
});
