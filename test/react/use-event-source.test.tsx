// @vitest-environment happy-dom
// useEventSource in a DOM environment (happy-dom: no global EventSource, so the hook takes siar/client's,
// which runs on happy-dom's fetch with its same-origin policy), against a real siar/server stream.
import { act, cleanup, renderHook, waitFor } from '@testing-library/react';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EventSource as SiarEventSource } from '../../src/client/index.js';
import { type UseEventSourceOptions, useEventSource } from '../../src/react/index.js';
import { type StreamServer, startStreamServer } from './stream-server.js';

describe('useEventSource', () => {
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

  it('opens, delivers message and named events, and closes the connection on unmount', async () => {
    const seen: string[] = [];
    const { result, unmount } = renderHook(() =>
      useEventSource(`${server.url}/events`, {
        events: ['price'],
        onEvent: (event) => seen.push(`${event.type}:${event.data}`),
      }),
    );
    expect(result.current.readyState).toBe(0);
    await waitFor(() => expect(result.current.readyState).toBe(1));
    expect(server.streams.size).toBe(1);

    server.send({ data: 'hello', id: '1' });
    await waitFor(() =>
      expect(result.current.lastEvent).toEqual({ type: 'message', data: 'hello', lastEventId: '1' }),
    );
    server.send({ event: 'price', data: '42', id: '2' });
    await waitFor(() => expect(result.current.lastEvent?.type).toBe('price'));
    server.send({ event: 'ignored', data: 'not listened to', id: '3' });
    server.send({ data: 'last', id: '4' });
    await waitFor(() => expect(result.current.lastEvent?.data).toBe('last'));
    expect(seen).toEqual(['message:hello', 'price:42', 'message:last']);
    expect(result.current.error).toBeNull();

    unmount();
    // The server sees the connection close.
    await waitFor(() => expect(server.streams.size).toBe(0));
    expect(server.requests).toHaveLength(1);
  });

  it('reconnects by itself with Last-Event-ID after the connection drops, saying so meanwhile', async () => {
    const errors: Array<{ reconnecting: boolean; readyState: number }> = [];
    const { result } = renderHook(() => {
      const state = useEventSource(`${server.url}/events`, {
        onError: (error) => errors.push({ reconnecting: error.reconnecting, readyState: state.readyState }),
      });
      return state;
    });
    await waitFor(() => expect(result.current.readyState).toBe(1));
    server.send({ data: 'before', id: 'before-drop' });
    await waitFor(() => expect(result.current.lastEvent?.lastEventId).toBe('before-drop'));

    server.drop();
    await waitFor(() => expect(server.requests).toHaveLength(2));
    await waitFor(() => expect(result.current.readyState).toBe(1));
    expect(server.requests[1]?.lastEventId).toBe('before-drop');
    // The drop was reported as an error it reconnects after, cleared once open again.
    expect(errors.map((error) => error.reconnecting)).toEqual([true]);
    expect(result.current.error).toBeNull();
    server.send({ data: 'after', id: 'after-drop' });
    await waitFor(() => expect(result.current.lastEvent?.data).toBe('after'));
  });

  it('reports a refusal as closed for good, with the status', async () => {
    const { result } = renderHook(() => useEventSource(`${server.url}/private`));
    await waitFor(() => expect(result.current.readyState).toBe(2));
    expect(result.current.error?.status).toBe(401);
    expect(result.current.error?.reconnecting).toBe(false);
    expect(server.requests).toHaveLength(1);
  });

  it('sends headers through siar/client when asked, so a token need not go in the URL', async () => {
    const { result } = renderHook(() =>
      useEventSource(`${server.url}/private`, { headers: { Authorization: 'Bearer let-me-in' } }),
    );
    await waitFor(() => expect(result.current.readyState).toBe(1));
    expect(server.requests[0]?.authorization).toBe('Bearer let-me-in');
  });

  it('keeps one connection across renders with equal options, and reconnects when the URL changes', async () => {
    const { result, rerender } = renderHook(
      ({ url, options }: { url: string | null; options: UseEventSourceOptions }) =>
        useEventSource(url, options),
      {
        initialProps: {
          url: `${server.url}/events?a` as string | null,
          options: { events: ['x'], onEvent: () => {} } as UseEventSourceOptions,
        },
      },
    );
    await waitFor(() => expect(result.current.readyState).toBe(1));
    // A new options object with the same values, and a new callback: the same connection.
    rerender({ url: `${server.url}/events?a`, options: { events: ['x'], onEvent: () => {} } });
    rerender({ url: `${server.url}/events?a`, options: { events: ['x'] } });
    expect(server.requests).toHaveLength(1);

    rerender({ url: `${server.url}/events?b`, options: { events: ['x'] } });
    await waitFor(() => expect(server.requests).toHaveLength(2));
    await waitFor(() => expect(result.current.readyState).toBe(1));
    expect(server.streams.size).toBe(1);

    // null: not now. The connection closes and no other is made.
    rerender({ url: null, options: {} });
    await waitFor(() => expect(server.streams.size).toBe(0));
    // As useSubscribe's `idle`: nothing failed, nothing is kept from before.
    expect(result.current).toMatchObject({ readyState: 2, error: null, lastEvent: null });
    expect(server.requests).toHaveLength(2);
  });

  it('close() ends the connection for good', async () => {
    const { result } = renderHook(() => useEventSource(`${server.url}/events`));
    await waitFor(() => expect(result.current.readyState).toBe(1));
    act(() => result.current.close());
    expect(result.current.readyState).toBe(2);
    await waitFor(() => expect(server.streams.size).toBe(0));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(server.requests).toHaveLength(1);
  });

  it('uses the EventSource class it is given', async () => {
    let made = 0;
    class Counted extends SiarEventSource {
      constructor(url: string | URL, init?: ConstructorParameters<typeof SiarEventSource>[1]) {
        super(url, init);
        made++;
      }
    }
    const { result } = renderHook(() => useEventSource(`${server.url}/events`, { EventSource: Counted }));
    await waitFor(() => expect(result.current.readyState).toBe(1));
    expect(made).toBe(1);
  });
});
