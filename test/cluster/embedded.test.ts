// The README's example of workers in your own program (embedded-hub.ts): node:cluster, HubPrimary
// and joinHubPrimary around createHub, serving as one hub and stopping as one on SIGTERM.
import { createRequire } from 'node:module';
import { expect, it } from 'vitest';
import { createToken } from '../../src/hub/index.js';
import { spawnProcess } from '../helpers/child-process.js';
import { hubAddress } from '../helpers/hub-process.js';
import { publishOnNewConnection, subscribeUrl } from '../helpers/hub-requests.js';
import { cleanupAfterEach } from '../helpers/teardown.js';
import { ids } from '../hub/hub-helpers.js';
import { healthWhen, openStreams, workerOf } from './cluster-helpers.js';

const KEY = 'embedded-workers-test-key-long-enough';
const TOPIC = 'https://example.com/embedded';
const TSX = createRequire(import.meta.url).resolve('tsx');
const teardown = cleanupAfterEach();

it("runs the README's workers example as one hub, and stops it as one on SIGTERM", async () => {
  const run = spawnProcess(process.execPath, ['--import', TSX, 'test/cluster/embedded-hub.ts'], {
    env: { KEY, PORT: '0', WORKERS: '2' },
  });
  teardown(() => run.kill());
  const [, url] = await run.waitFor(
    /worker listening on (http:\/\/127\.0\.0\.1:\d+)[\s\S]*worker listening on/,
  );
  const hub = hubAddress(url as string);
  const subscribers = await openStreams(teardown, subscribeUrl(hub.hubUrl, [TOPIC]), 4);
  expect(new Set(subscribers.map(workerOf))).toEqual(new Set(['1', '2']));
  const bearer = await createToken({ publish: ['*'] }, KEY);
  for (const id of ['e1', 'e2']) {
    expect(await publishOnNewConnection(hub.hubUrl, bearer, { topic: TOPIC, id })).toEqual({
      status: 200,
      body: id,
    });
  }
  for (const subscriber of subscribers) await subscriber.waitForEvents(2);
  await healthWhen(
    hub,
    (seen) => seen.subscribers === 4 && seen.workers?.length === 2,
    'both workers counted',
  );
  run.child.kill('SIGTERM');
  expect(await run.exited).toBe(0);
  for (const subscriber of subscribers) {
    await subscriber.ended;
    expect(ids(subscriber)).toEqual(['e1', 'e2']);
    expect(subscriber.retries).toEqual([2000]);
  }
});
