// Draft-08's publication rules over HTTP, for every publisher whatever its token's generation (and for
// hub.publish): the hub's own namespace, the wildcard topic, control and format characters, the
// reserved ID and event type (400), and the size limits (413). A refused update reaches nobody; the
// hub's own subscription events, in that namespace, still go out.
import { describe, expect, it } from 'vitest';
import type { SseConnection } from '../../helpers/sse-client.js';
import {
  form,
  formHeaders,
  hubsClosedAfterEach,
  ids,
  send,
  sseClosedAfterEach,
  type TestHub,
  token,
} from '../hub-helpers.js';

const startHub = hubsClosedAfterEach();
const openSse = sseClosedAfterEach();

const TOPIC = 'https://example.com/books/1';

/** A subscriber to every topic, public and private, to see that a refused update reached nobody. */
async function everything(h: TestHub): Promise<SseConnection> {
  const client = await openSse(h.selectUrl([['match', '*']]), {
    headers: { authorization: `Bearer ${await h.accessToken({ subscribe: ['*'] })}` },
  });
  expect(client.status).toBe(200);
  return client;
}

async function tokens(h: TestHub): Promise<Array<[string, string]>> {
  return [
    ['a draft-07 token', await token({ publish: ['*'] })],
    ['an access token', await h.accessToken({ publish: ['*'] })],
  ];
}

const cases: Array<[string, Record<string, string | string[]>, number, string]> = [
  [
    'a topic in the hub namespace',
    { topic: '/.well-known/mercure/subscriptions/exact/a/b' },
    400,
    "hub's own namespace",
  ],
  ['the hub path itself', { topic: '/.well-known/mercure' }, 400, "hub's own namespace"],
  [
    'an absolute topic in the namespace of any host',
    { topic: 'https://hub.example.com/.well-known/mercure/subscriptions/x' },
    400,
    "hub's own namespace",
  ],
  ['a percent-encoded namespace', { topic: '/.well-known/%6Dercure/x' }, 400, "hub's own namespace"],
  ['dot-segments into the namespace', { topic: '/a/../.well-known/mercure/x' }, 400, "hub's own namespace"],
  [
    'an alternate topic in the namespace',
    { topic: [TOPIC, '/.well-known/mercure/x'] },
    400,
    "hub's own namespace",
  ],
  ['the wildcard topic', { topic: '*' }, 400, 'reserved for the wildcard'],
  ['a control character in a topic', { topic: 'https://example.com/a\u0085b' }, 400, 'U+0085'],
  ['a format character in a topic', { topic: 'https://example.com/a\u200Bb' }, 400, 'U+200B'],
  ['the ID earliest', { topic: TOPIC, id: 'earliest' }, 400, 'reserved'],
  ['an ID starting with #', { topic: TOPIC, id: '#7' }, 400, 'must not start with "#"'],
  ['a format character in an ID', { topic: TOPIC, id: 'a\u200Eb' }, 400, 'U+200E'],
  [
    'the event type mercure',
    { topic: TOPIC, type: 'mercure' },
    400,
    'reserved for the events the hub publishes',
  ],
  ['a format character in a type', { topic: TOPIC, type: 'a\u2066b' }, 400, 'U+2066'],
  ['too many topics', { topic: ['urn:a', 'urn:b', 'urn:c', 'urn:d'] }, 413, 'Too many "topic" fields'],
  ['a topic too long', { topic: `urn:${'a'.repeat(100)}` }, 413, 'longer than 100 characters'],
  ['data too large', { topic: TOPIC, data: 'x'.repeat(1025) }, 413, 'larger than 1024 bytes'],
];

describe('publication rules', () => {
  it.each(cases)(
    'refuse %s, whatever the token, and publish nothing',
    async (_name, fields, status, message) => {
      const h = await startHub({ maxTopics: 3, maxTopicLength: 100, maxUpdateBytes: 1024 });
      const watcher = await everything(h);
      for (const [kind, bearer] of await tokens(h)) {
        const answer = await send(h.hubUrl, {
          method: 'POST',
          headers: formHeaders(bearer),
          body: form(fields),
        });
        expect(answer.status, kind).toBe(status);
        expect(answer.body, kind).toContain(message);
      }
      expect((await h.publish({ topic: TOPIC, id: 'after' })).status).toBe(200);
      await watcher.waitForEvents(1);
      expect(ids(watcher)).toEqual(['after']);
    },
  );

  it('apply to the hosting app’s hub.publish() too', async () => {
    const h = await startHub();
    await expect(h.hub.publish({ topics: ['/.well-known/mercure/subscriptions/x'] })).rejects.toMatchObject({
      status: 400,
    });
    await expect(h.hub.publish({ topics: [TOPIC], type: 'mercure' })).rejects.toMatchObject({ status: 400 });
    await expect(h.hub.publish({ topics: ['*'] })).rejects.toMatchObject({ status: 400 });
    expect(h.hub.stats().updatesPublished).toBe(0);
  });

  it('leave the hub’s own subscription events alone: they go out in its namespace, as type mercure', async () => {
    const h = await startHub({ subscriptions: true });
    const watcher = await openSse(
      h.selectUrl([['match_urlpattern', '/.well-known/mercure/subscriptions/*']]),
      {
        headers: {
          authorization: `Bearer ${await h.accessToken({
            subscribe: [{ match: '/.well-known/mercure/subscriptions/*', match_type: 'urlpattern' }],
          })}`,
        },
      },
    );
    await watcher.waitForEvents(1);
    expect(watcher.events[0]?.type).toBe('mercure');
    expect(JSON.parse(watcher.events[0]?.data ?? '{}')).toMatchObject({
      match_type: 'urlpattern',
      active: true,
    });
  });
});
