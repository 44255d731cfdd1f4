import type { SseEvent } from '../protocol/index.js';
import type { EventStream } from './event-stream.js';

export interface PipeOptions<T> {
  /** Turns an item into an event. Default: a string or bytes become `data`; anything else is sent as JSON `data`. */
  map?: (item: T) => SseEvent;
  /** Close the stream when the source ends. Default true. */
  close?: boolean;
}

const utf8 = new TextDecoder();

function defaultEvent(item: unknown): SseEvent {
  if (typeof item === 'string') return { data: item };
  if (item instanceof Uint8Array) return { data: utf8.decode(item) };
  return { data: JSON.stringify(item) ?? 'null' };
}

/**
 * Sends every item of an async iterable, an iterable or a Node.js `Readable` (object mode or
 * bytes) as one event each, waiting while the client is not keeping up. Stops pulling from the
 * source once the stream has closed: the source is told (its `return()` runs, a generator's
 * `finally` blocks run) when it yields its next item, so a source that waits long between items
 * should also watch `stream.closed` itself. Resolves to the number of events sent.
 */
export async function pipe<T>(
  source: AsyncIterable<T> | Iterable<T>,
  // biome-ignore lint/suspicious/noExplicitAny: any stream, whatever its state type.
  stream: EventStream<any>,
  options: PipeOptions<T> = {},
): Promise<number> {
  const map = options.map ?? defaultEvent;
  let sent = 0;
  for await (const item of source) {
    if (!stream.isOpen) break;
    const ok = stream.send(map(item));
    if (!stream.isOpen) break;
    sent++;
    if (!ok) await stream.drained();
  }
  if (options.close ?? true) stream.close();
  return sent;
}
