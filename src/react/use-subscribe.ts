import { useCallback, useEffect, useRef, useState } from 'react';
import { type SubscribeOptions, type Subscription, subscribe } from '../client/subscribe.js';
import { optionsKey } from './options-key.js';
import { pageFetch } from './page-fetch.js';
import type { StreamEvent } from './use-event-source.js';

/** Where a subscription stands. */
export type SubscribeStatus = 'idle' | 'connecting' | 'open' | 'closed' | 'error';

/**
 * Options of {@link useSubscribe}: those of siar/client's `subscribe()` (but `signal`: unmounting is
 * the signal), and `onEvent`. Changing a value reconnects; changing a callback or `fetch` does not.
 */
export interface UseSubscribeOptions extends Omit<SubscribeOptions, 'signal'> {
  /** Called with each event as it arrives. */
  onEvent?: (event: StreamEvent) => void;
}

/** What {@link useSubscribe} returns. */
export interface SubscribeState {
  /**
   * `idle` while `url` is null ("not now": nothing is requested, nothing has ended); `connecting` until
   * a response opens the stream, and again while reconnecting; `open` while events may arrive; `closed`
   * when the stream ended for good (a 204, `reconnect: false`, `close()`); `error` when the
   * subscription gave up (`error` says why).
   */
  status: SubscribeStatus;
  lastEvent: StreamEvent | null;
  /** Why it gave up (status `error`), or the last error it is retrying after (status `connecting`). */
  error: unknown;
  /** Ends the subscription (until `url` or the options change). */
  close(): void;
}

/**
 * Runs siar/client's `subscribe()` on `url` while the component is mounted: fetch-based, so it can
 * send headers, POST a body and back off between reconnections. Cancelled on unmount, restarted when
 * `url` or the options change; `url` null means "not now" (status `idle`). A relative URL is resolved
 * against the page's.
 */
export function useSubscribe(url: string | URL | null, options: UseSubscribeOptions = {}): SubscribeState {
  const [status, setStatus] = useState<SubscribeStatus>(url === null ? 'idle' : 'connecting');
  const [lastEvent, setLastEvent] = useState<StreamEvent | null>(null);
  const [error, setError] = useState<unknown>(null);
  const latest = useRef(options);
  latest.current = options;
  const running = useRef<Subscription | undefined>(undefined);
  const href = url === null ? null : new URL(String(url), globalThis.location?.href).href;
  // Callbacks and `fetch` are functions, which the key leaves out: a new arrow each render does not reconnect.
  const key = optionsKey([href, options]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` stands for href and the options by value.
  useEffect(() => {
    setLastEvent(null);
    setError(null);
    if (href === null) {
      setStatus('idle');
      return;
    }
    setStatus('connecting');
    let active = true;
    const subscription = subscribe(href, {
      ...latest.current,
      fetch: latest.current.fetch ?? pageFetch(),
      isRetryableStatus:
        latest.current.isRetryableStatus && ((status) => latest.current.isRetryableStatus?.(status) ?? false),
      onOpen: async (response) => {
        await latest.current.onOpen?.(response);
        if (!active) return;
        setStatus('open');
        setError(null);
      },
      onError: (failure, retry) => {
        if (active) setError(failure);
        return latest.current.onError?.(failure, retry);
      },
      onRetry: (retry) => {
        if (active) setStatus('connecting');
        latest.current.onRetry?.(retry);
      },
    });
    running.current = subscription;
    (async () => {
      try {
        for await (const event of subscription) {
          if (!active) return;
          setLastEvent(event);
          latest.current.onEvent?.(event);
        }
        if (active) setStatus('closed');
      } catch (failure) {
        if (!active) return;
        setError(failure);
        setStatus('error');
      }
    })();
    return () => {
      active = false;
      subscription.close();
      if (running.current === subscription) running.current = undefined;
    };
  }, [key]);

  const close = useCallback(() => {
    running.current?.close();
    running.current = undefined;
    setStatus('closed');
  }, []);

  return { status, lastEvent, error, close };
}
