// @vitest-environment happy-dom
// useSubscribe in a DOM environment: siar/client's subscribe() on happy-dom's fetch (same-origin policy,
// CORS, streamed bodies, as in a browser), against a real siar/server stream.
import { act, cleanup, renderHook, waitFor } from '@testing-library/react';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ClientError } from '../../src/client/index.js';
import { type SubscribeStatus, type UseSubscribeOptions, useSubscribe } from '../../src/react/index.js';
import { type StreamServer, startStreamServer } from './stream-server.js';

const FAST = { initialDelayMs: 20, jitter: 0 };

describe('useSubscribe', () => {
  let server: StreamServer;

  beforeAll(async () => {
    server = await startStreamServer();
  });
  afterAll(() => server.close());
  beforeEach(() => {
    server.requests.length = 0;
  });
  afterEach(async () => {
    cleanup();
    await waitFor(() => expect(server.streams.size).toBe(0));
  });

  it('POSTs with headers and a body, delivers events, and cancels the request on unmount', async () => {
    const seen: string[] = [];
    const { result, unmount } = renderHook(() =>
      useSubscribe(`${server.url}/private`, {
        method: 'POST',
        headers: { Authorization: 'Bearer let-me-in', 'Content-Type': 'application/json' },
        body: '{"prompt":"hello"}',
        onEvent: (event) => seen.push(event.data),
      }),
    );
    expect(result.current.status).toBe('connecting');
    await waitFor(() => expect(result.current.status).toBe('open'));
    expect(server.requests).toEqual([
      {
        method: 'POST',
        path: '/private',
        lastEventId: '',
        authorization: 'Bearer let-me-in',
        body: '{"prompt":"hello"}',
      },
    ]);
    server.send({ event: 'token', data: 'Hel', id: 'a' });
    server.send({ event: 'token', data: 'lo', id: 'b' });
    await waitFor(() =>
      expect(result.current.lastEvent).toEqual({ type: 'token', data: 'lo', lastEventId: 'b' }),
    );
    expect(seen).toEqual(['Hel', 'lo']);

    unmount();
    await waitFor(() => expect(server.streams.size).toBe(0));
  });

  it('reconnects with backoff and Last-Event-ID, going back to "connecting" meanwhile', async () => {
    const statuses: SubscribeStatus[] = [];
    const { result } = renderHook(() => {
      const state = useSubscribe(`${server.url}/events`, { reconnect: FAST });
      if (statuses.at(-1) !== state.status) statuses.push(state.status);
      return state;
    });
    await waitFor(() => expect(result.current.status).toBe('open'));
    server.send({ data: 'before', id: 'before-drop' });
    await waitFor(() => expect(result.current.lastEvent?.lastEventId).toBe('before-drop'));

    server.drop();
    await waitFor(() => expect(server.requests).toHaveLength(2));
    await waitFor(() => expect(result.current.status).toBe('open'));
    expect(server.requests[1]?.lastEventId).toBe('before-drop');
    expect(statuses).toEqual(['connecting', 'open', 'connecting', 'open']);
    server.send({ data: 'after', id: 'after-drop' });
    await waitFor(() => expect(result.current.lastEvent?.data).toBe('after'));
  });

  it('stops with status "error" and the ClientError when the server refuses', async () => {
    const { result } = renderHook(() => useSubscribe(`${server.url}/private`, { reconnect: FAST }));
    await waitFor(() => expect(result.current.status).toBe('error'));
    const error = result.current.error;
    expect(error).toBeInstanceOf(ClientError);
    expect((error as ClientError).code).toBe('http-status');
    expect((error as ClientError).status).toBe(401);
    expect(server.requests).toHaveLength(1);
  });

  it('is "closed" when the stream ends and reconnect is off', async () => {
    const { result } = renderHook(() => useSubscribe(`${server.url}/events`, { reconnect: false }));
    await waitFor(() => expect(result.current.status).toBe('open'));
    for (const stream of server.streams) stream.close();
    await waitFor(() => expect(result.current.status).toBe('closed'));
    expect(result.current.error).toBeNull();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(server.requests).toHaveLength(1);
  });

  it('is "idle" for a null URL ("not now"): no request, nothing ended; a URL connects, null again lets go', async () => {
    const statuses: SubscribeStatus[] = [];
    const { result, rerender } = renderHook(
      ({ url }: { url: string | null }) => {
        const state = useSubscribe(url, { reconnect: FAST });
        if (statuses.at(-1) !== state.status) statuses.push(state.status);
        return state;
      },
      { initialProps: { url: null as string | null } },
    );
    expect(result.current).toMatchObject({ status: 'idle', lastEvent: null, error: null });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(server.requests).toHaveLength(0);

    rerender({ url: `${server.url}/events` });
    await waitFor(() => expect(result.current.status).toBe('open'));
    server.send({ data: 'now', id: 'now' });
    await waitFor(() => expect(result.current.lastEvent?.data).toBe('now'));

    rerender({ url: null });
    await waitFor(() => expect(server.streams.size).toBe(0));
    expect(result.current).toMatchObject({ status: 'idle', lastEvent: null, error: null });
    expect(statuses).toEqual(['idle', 'connecting', 'open', 'idle']);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(server.requests).toHaveLength(1);
  });

  it('restarts when an option changes by value, not when a new object has the same values', async () => {
    const { result, rerender } = renderHook(
      ({ options }: { options: UseSubscribeOptions }) => useSubscribe(`${server.url}/events`, options),
      { initialProps: { options: { headers: { 'X-Room': '1' }, onEvent: () => {} } as UseSubscribeOptions } },
    );
    await waitFor(() => expect(result.current.status).toBe('open'));
    rerender({ options: { headers: { 'X-Room': '1' }, onEvent: () => {} } });
    expect(server.requests).toHaveLength(1);
    rerender({ options: { headers: { 'X-Room': '2' } } });
    await waitFor(() => expect(server.requests).toHaveLength(2));
    await waitFor(() => expect(result.current.status).toBe('open'));
    expect(server.streams.size).toBe(1);
  });

  it('close() ends the subscription', async () => {
    const { result } = renderHook(() => useSubscribe(`${server.url}/events`, { reconnect: FAST }));
    await waitFor(() => expect(result.current.status).toBe('open'));
    act(() => result.current.close());
    expect(result.current.status).toBe('closed');
    await waitFor(() => expect(server.streams.size).toBe(0));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(server.requests).toHaveLength(1);
  });

  it('resolves a relative URL against the page', async () => {
    // The page on the server's own origin: same-origin, no CORS.
    const happyDom = (window as unknown as { happyDOM: { setURL(url: string): void } }).happyDOM;
    happyDom.setURL(`${server.url}/app/`);
    try {
      const { result } = renderHook(() => useSubscribe('/events'));
      await waitFor(() => expect(result.current.status).toBe('open'));
      expect(server.requests[0]?.path).toBe('/events');
    } finally {
      happyDom.setURL('http://localhost:3000/');
    }
  });
});
