import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/net.js';
import { openSse } from '../helpers/sse-client.js';
import { startHub, type TestHub, token } from './hub-helpers.js';

let hubs: TestHub[] = [];
afterEach(async () => {
  await Promise.all(hubs.map((hub) => hub.close()));
  hubs = [];
});

async function hub(options: Parameters<typeof startHub>[0] = {}): Promise<TestHub> {
  const started = await startHub(options);
  hubs.push(started);
  return started;
}

describe('hub: subscribe and publish', () => {
  it('delivers a published update to a matching subscriber, with the hub-made ID as the response body', async () => {
    const h = await hub({ anonymous: true });
    const client = await openSse(h.subscribeUrl(['https://example.com/books/1']));
    expect(client.status).toBe(200);
    expect(client.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    const response = await h.publish({
      topic: 'https://example.com/books/1',
      data: 'line 1\nline 2',
      type: 'book',
      retry: '1500',
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const id = await response.text();
    expect(id).toMatch(/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    await client.waitForEvents(1);
    expect(client.events[0]).toEqual({ type: 'book', data: 'line 1\nline 2', lastEventId: id });
    expect(client.retries).toEqual([1500]);
    client.close();
  });

  it('matches URI templates, "*" and alternate topics, and sends each update once per subscriber', async () => {
    const h = await hub({ anonymous: true });
    const template = await openSse(h.subscribeUrl(['https://example.com/books/{id}']));
    const everything = await openSse(h.subscribeUrl(['*']));
    const several = await openSse(
      h.subscribeUrl(['https://example.com/books/1', 'https://example.com/books/{id}', '*']),
    );
    const alternate = await openSse(h.subscribeUrl(['https://example.com/alt']));
    const other = await openSse(h.subscribeUrl(['https://example.com/authors/{id}']));
    await waitFor(() => h.hub.stats().subscribers === 5);
    await h.publish({
      topic: ['https://example.com/books/1', 'https://example.com/alt'],
      data: 'one',
      id: 'u1',
    });
    await h.publish({ topic: 'https://example.com/books/1/chapters', data: 'two', id: 'u2' });
    await template.waitForEvents(1);
    await everything.waitForEvents(2);
    await several.waitForEvents(2);
    await alternate.waitForEvents(1);
    await h.publish({ topic: 'https://example.com/authors/7', data: 'three', id: 'u3' });
    await other.waitForEvents(1);
    await everything.waitForEvents(3);
    const ids = (client: typeof template) => client.events.map((event) => event.lastEventId);
    expect(ids(template)).toEqual(['u1']);
    expect(ids(everything)).toEqual(['u1', 'u2', 'u3']);
    expect(ids(several)).toEqual(['u1', 'u2', 'u3']);
    expect(ids(alternate)).toEqual(['u1']);
    expect(ids(other)).toEqual(['u3']);
    for (const client of [template, everything, several, alternate, other]) client.close();
  });

  it('keeps private updates from subscribers whose claim does not match', async () => {
    const h = await hub({ anonymous: true });
    const allowed = await token({ subscribe: ['https://example.com/users/{user}'] });
    const anonymous = await openSse(h.subscribeUrl(['https://example.com/books/{id}']));
    const authorized = await openSse(h.subscribeUrl(['https://example.com/books/{id}']), {
      headers: { authorization: `Bearer ${allowed}` },
    });
    await waitFor(() => h.hub.stats().subscribers === 2);
    await h.publish({
      topic: ['https://example.com/books/1', 'https://example.com/users/ada'],
      data: 'secret',
      private: 'on',
      id: 'p1',
    });
    await h.publish({ topic: 'https://example.com/books/2', data: 'secret too', private: 'on', id: 'p2' });
    await h.publish({ topic: 'https://example.com/books/3', data: 'public', id: 'p3' });
    await authorized.waitForEvents(2);
    await anonymous.waitForEvents(1);
    expect(authorized.events.map((event) => event.lastEventId)).toEqual(['p1', 'p3']);
    expect(anonymous.events.map((event) => event.lastEventId)).toEqual(['p3']);
    anonymous.close();
    authorized.close();
  });
});
