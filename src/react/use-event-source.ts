import { useCallback, useEffect, useRef, useState } from 'react';
import { EventSource as SiarEventSource } from '../client/event-source.js';
import type { Fetch, HeadersLike } from '../client/types.js';
import type { ParsedEvent } from '../protocol/index.js';
import { optionsKey } from './options-key.js';
import { pageFetch } from './page-fetch.js';

/** `EventSource.CONNECTING` (0), `OPEN` (1) or `CLOSED` (2). */
export type ReadyState = 0 | 1 | 2;

/** What the hooks hold of an event: its type (`message` unless the stream named it), data and ID. */
export type StreamEvent = ParsedEvent;

/** The constructor of an `EventSource`: the browser's, siar/client's, or another with the same API. */
export type EventSourceClass = new (
  url: string,
  init?: { withCredentials?: boolean; headers?: HeadersLike; fetch?: Fetch },
) => EventSourceLike;

/** The part of an `EventSource` the hook uses. */
export interface EventSourceLike {
  readonly readyState: number;
  addEventListener(type: string, listener: (event: Event) => void): void;
  close(): void;
}

/** Why the connection failed; `reconnecting` says whether the EventSource tries again by itself. */
export class EventSourceError extends Error {
  override readonly name = 'EventSourceError';
  /** The HTTP status, when siar/client's EventSource knows it (a browser's does not say). */
  readonly status: number | undefined;
  readonly reconnecting: boolean;

  constructor(message: string, reconnecting: boolean, status?: number) {
    super(message);
    this.reconnecting = reconnecting;
    this.status = status;
  }
}

/** Options of {@link useEventSource}. Changing a value reconnects; changing a callback does not. */
export interface UseEventSourceOptions {
  /** Send cookies to another origin (CORS with credentials). Default false. */
  withCredentials?: boolean;
  /**
   * Request headers, such as `Authorization`. A browser's EventSource cannot send headers, so with
   * headers the hook uses siar/client's EventSource (fetch-based) everywhere.
   */
  headers?: HeadersLike;
  /** Named event types to listen to, besides `message` (an EventSource hears only the names it listens to). */
  events?: readonly string[];
  /** Called with each event, `message` and the named ones, as it arrives. */
  onEvent?: (event: StreamEvent) => void;
  onOpen?: () => void;
  onError?: (error: EventSourceError) => void;
  /** The EventSource class. Default: the global one (browsers), else siar/client's (Node.js). */
  EventSource?: EventSourceClass;
}

/** What {@link useEventSource} returns. */
export interface EventSourceState {
  /**
   * `0` connecting (or reconnecting), `1` open, `2` closed: failed for good, closed, or `url` null (an
   * EventSource has no state of its own for "not now": `2` with `error` null and no request made).
   */
  readyState: ReadyState;
  /** The latest event, or null before the first. */
  lastEvent: StreamEvent | null;
  /** The latest error, cleared when the connection opens again. */
  error: EventSourceError | null;
  /** Closes the connection for good (until `url` or the options change). */
  close(): void;
}

const CLOSED = 2;

/**
 * Holds an `EventSource` open on `url` while the component is mounted: state for its connection and
 * its latest event, reconnection as the standard does it (the browser's or siar/client's), closed on
 * unmount and reopened when `url` or the options change. `url` null means "not now".
 */
export function useEventSource(
  url: string | URL | null,
  options: UseEventSourceOptions = {},
): EventSourceState {
  const [readyState, setReadyState] = useState<ReadyState>(url === null ? CLOSED : 0);
  const [lastEvent, setLastEvent] = useState<StreamEvent | null>(null);
  const [error, setError] = useState<EventSourceError | null>(null);
  const latest = useRef(options);
  latest.current = options;
  const source = useRef<EventSourceLike | undefined>(undefined);
  const href = url === null ? null : String(url);
  const { withCredentials = false, headers, events = [], EventSource: chosen } = options;
  const key = optionsKey([href, withCredentials, headers ?? null, events]);
  const Class: EventSourceClass =
    chosen ??
    (headers === undefined && typeof globalThis.EventSource === 'function'
      ? (globalThis.EventSource as unknown as EventSourceClass)
      : (SiarEventSource as EventSourceClass));

  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` stands for href, withCredentials, headers and events by value.
  useEffect(() => {
    setLastEvent(null);
    setError(null);
    if (href === null) {
      setReadyState(CLOSED);
      return;
    }
    setReadyState(0);
    const init: { withCredentials: boolean; headers?: HeadersLike; fetch?: Fetch } = { withCredentials };
    if (headers !== undefined) init.headers = headers;
    // siar/client's EventSource in a page: with the page's fetch (see pageFetch).
    const fetch = Class === SiarEventSource ? pageFetch() : undefined;
    if (fetch !== undefined) init.fetch = fetch;
    const current = new Class(href, init);
    source.current = current;
    const deliver = (event: Event) => {
      const message = event as MessageEvent<string>;
      const received: StreamEvent = {
        type: message.type,
        data: message.data,
        lastEventId: message.lastEventId,
      };
      setLastEvent(received);
      latest.current.onEvent?.(received);
    };
    current.addEventListener('message', deliver);
    for (const type of events) if (type !== 'message') current.addEventListener(type, deliver);
    current.addEventListener('open', () => {
      setReadyState(1);
      setError(null);
      latest.current.onOpen?.();
    });
    current.addEventListener('error', (event) => {
      const state = current.readyState as ReadyState;
      // siar/client's error events say why; a browser's say nothing.
      const detail = event as Event & { message?: string; status?: number };
      const failure = new EventSourceError(
        detail.message ??
          (state === CLOSED
            ? `The connection to ${href} failed for good: refused, or not an event stream.`
            : `The connection to ${href} was lost or could not be made; reconnecting.`),
        state !== CLOSED,
        detail.status,
      );
      setReadyState(state);
      setError(failure);
      latest.current.onError?.(failure);
    });
    return () => {
      current.close();
      if (source.current === current) source.current = undefined;
    };
  }, [key, Class]);

  const close = useCallback(() => {
    source.current?.close();
    source.current = undefined;
    setReadyState(CLOSED);
  }, []);

  return { readyState, lastEvent, error, close };
}
