// SIGTERM to `siar serve` while its Redis does not answer (a network partition, a Redis that hangs):
// the hub must still exit within its shutdown bound, not wait on the store for ever.
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/net.js';
import { describeRedis, startCliHub, startRedisServer, useTeardown } from '../helpers/redis.js';

const teardown = useTeardown();

describeRedis('siar serve on SIGTERM with a Redis that stopped answering', () => {
  it('exits (status 1, saying why) within its bound instead of waiting on the store', async () => {
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
    expect(hub.child.process.exitCode).toBe(1);
    expect(hub.child.output()).toMatch(/did not shut down within 10 s/);
    console.info(`siar serve exited ${Date.now() - stopped} ms after SIGTERM, its Redis frozen`);
  }, 40_000);
});
