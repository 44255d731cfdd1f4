// A hub with draft-07 turned off (createHub({ draft07: false }), siar serve --no-draft-07 or
// SIAR_DRAFT_07=0) speaks draft-08 alone: topic parameters are no selectors, draft-07 tokens are
// refused, no token comes in the URL, the mercureAuthorization cookie and lastEventID are not read.
import { describe, expect, it } from 'vitest';
import { createHub } from '../../../src/hub/index.js';
import { silentLogger } from '../../../src/server/index.js';
import { startHubProcess } from '../../helpers/hub-process.js';
import { cleanupAfterEach } from '../../helpers/teardown.js';
import {
  hubsClosedAfterEach,
  ids,
  NO_KEYS,
  send,
  sseClosedAfterEach,
  TEST_KEY,
  token,
} from '../hub-helpers.js';

const startHub = hubsClosedAfterEach();
const openSse = sseClosedAfterEach();
const defer = cleanupAfterEach();

const TOPIC = 'https://example.com/books/1';

describe('a hub without draft-07', () => {
  it('reads no topic selector: a request with only topic is missing its selector', async () => {
    const h = await startHub({ draft07: false, anonymous: true });
    const only = await send(h.selectUrl([['topic', TOPIC]]));
    expect(only.status).toBe(400);
    expect(only.body).toContain('draft-07 "topic" is turned off');
    const client = await openSse(
      h.selectUrl([
        ['topic', '*'],
        ['match', TOPIC],
      ]),
    );
    const publisher = await h.accessToken({ publish: ['*'] });
    await h.publish({ topic: 'https://example.com/other', id: 'other' }, publisher);
    await h.publish({ topic: TOPIC, id: 'book' }, publisher);
    await client.waitForEvents(1);
    expect(ids(client)).toEqual(['book']);
  });

  it('refuses draft-07 tokens, tokens in the URL, and ignores the draft-07 cookie', async () => {
    const h = await startHub({ draft07: false });
    const draft07 = await token({ publish: ['*'], subscribe: ['*'] });
    const published = await h.publish({ topic: TOPIC }, draft07);
    expect(published.status).toBe(401);
    expect(await published.text()).toContain('draft-07 tokens are turned off');
    // No token at all in the URL, not even the draft-07 one draft-07 allowed there.
    const inUrl = await send(`${h.hubUrl}?match=${encodeURIComponent(TOPIC)}&authorization=${draft07}`);
    expect(inUrl.status).toBe(400);
    expect(inUrl.body).toContain('Tokens are not accepted in the URL');
    const access = await h.accessToken({ subscribe: ['*'] });
    const oldCookie = await send(h.selectUrl([['match', TOPIC]]), {
      headers: { cookie: `mercureAuthorization=${access}` },
    });
    expect(oldCookie.status).toBe(401);
    expect(oldCookie.body).toContain('needs an access token');
    const newCookie = await openSse(h.selectUrl([['match', TOPIC]]), {
      headers: { cookie: `__Secure-mercure_access_token=${access}` },
    });
    expect(newCookie.status).toBe(200);
  });

  it('replays after last_event_id, and ignores lastEventID', async () => {
    const h = await startHub({ draft07: false, anonymous: true });
    const publisher = await h.accessToken({ publish: ['*'] });
    for (const id of ['a', 'b']) await h.publish({ topic: TOPIC, id }, publisher);
    const draft08 = await openSse(
      h.selectUrl([
        ['match', TOPIC],
        ['last_event_id', 'a'],
      ]),
    );
    await draft08.waitForEvents(1);
    expect(ids(draft08)).toEqual(['b']);
    const draft07 = await openSse(
      h.selectUrl([
        ['match', TOPIC],
        ['lastEventID', 'a'],
      ]),
    );
    expect(draft07.headers['mercure-last-event-id']).toBeUndefined();
    await h.publish({ topic: TOPIC, id: 'c' }, publisher);
    await draft07.waitForEvents(1);
    expect(ids(draft07)).toEqual(['c']);
  });

  it('needs an issuer, unless its subscribers are anonymous only', () => {
    expect(() =>
      createHub({ draft07: false, publisherJwt: { key: TEST_KEY }, logger: silentLogger }),
    ).toThrow(/draft-07 is off.*set issuer/);
  });

  it.each([
    [['--no-draft-07'], {}],
    [[], { SIAR_DRAFT_07: '0' }],
  ])('is what siar serve %j %j runs', async (args, env) => {
    const served = await startHubProcess(defer, {
      args: ['--issuer', 'https://app.example.com', ...args],
      env: { ...NO_KEYS, ...env },
    });
    const topicOnly = await send(`${served.hubUrl}?topic=${encodeURIComponent(TOPIC)}`);
    expect(topicOnly.status).toBe(400);
    const match = await openSse(`${served.hubUrl}?match=${encodeURIComponent(TOPIC)}`);
    expect(match.status).toBe(200);
    match.close();
  });
});
