/** `siar serve --store postgres://…` and `--store nats://…`: the CLI opens them, and two nodes make one hub. */
import { describe, expect, it } from 'vitest';
import { useFollowers } from '../helpers/follower.js';
import { cliPublisherToken, startHubProcess } from '../helpers/hub-process.js';
import { publishTo, subscribeUrl } from '../helpers/hub-requests.js';
import { cleanupAfterEach } from '../helpers/teardown.js';
import { NATS_URL, POSTGRES_URL, STORES } from './stores.js';

const CASES = [
  { name: 'postgres', spec: (prefix: string) => `${POSTGRES_URL}?prefix=${prefix.replaceAll('-', '_')}` },
  { name: 'nats', spec: (prefix: string) => `${NATS_URL}?prefix=${prefix}` },
] as const;

describe.each(CASES)('siar serve --store $name', ({ name, spec }) => {
  const teardown = cleanupAfterEach();
  const follow = useFollowers(teardown);
  const factory = STORES.find((store) => store.name === name);

  it.skipIf(factory?.problem !== undefined)(
    'serves two nodes as one hub: published on one, received on the other',
    async () => {
      const space = factory?.space(teardown);
      const prefix = String(space?.spec().options.prefix);
      const store = spec(prefix);
      const args = ['--store', store];
      const [a, b] = [await startHubProcess(teardown, { args }), await startHubProcess(teardown, { args })];
      expect(a.line).toContain(`(store: ${store.split(':')[0]})`);
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
