/** `siar serve --store postgres://…` and `--store nats://…`: the CLI opens them, and two nodes make one hub. */
import { describe, expect, it } from 'vitest';
import {
  cliPublisherToken,
  publishTo,
  startCliHub,
  subscribeUrl,
  useFollowers,
  useTeardown,
} from '../helpers/redis.js';
import { NATS_URL, POSTGRES_URL, STORES } from './stores.js';

const CASES = [
  { name: 'postgres', spec: (prefix: string) => `${POSTGRES_URL}?prefix=${prefix.replaceAll('-', '_')}` },
  { name: 'nats', spec: (prefix: string) => `${NATS_URL}?prefix=${prefix}` },
] as const;

describe.each(CASES)('siar serve --store $name', ({ name, spec }) => {
  const teardown = useTeardown();
  const follow = useFollowers(teardown);
  const factory = STORES.find((store) => store.name === name);

  it.skipIf(factory?.problem !== undefined)(
    'serves two nodes as one hub: published on one, received on the other',
    async () => {
      const space = factory?.space(teardown);
      const prefix = String(space?.spec().options.prefix);
      const store = spec(prefix);
      const [a, b] = [await startCliHub(store), await startCliHub(store)];
      teardown(() => a.child.kill());
      teardown(() => b.child.kill());
      expect(a.child.output()).toContain(`(store: ${store.split(':')[0]})`);
      const follower = await follow([subscribeUrl(b.hubUrl, ['https://example.com/cli'])]);
      const published = await publishTo(a.hubUrl, await cliPublisherToken(), {
        topic: 'https://example.com/cli',
        id: 'from-a',
        data: 'x',
      });
      expect(published).toEqual({ status: 200, body: 'from-a' });
      await follower.waitFor(1);
      expect(follower.ids()).toEqual(['from-a']);
    },
  );
});
