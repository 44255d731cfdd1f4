import type { FetchResponse } from './types.js';

/** Reads a response body one chunk at a time, whatever shape the `fetch` in use gives it. */
export interface ChunkReader {
  /** The next chunk, or `undefined` at the end of the body. Rejects when the stream breaks or is aborted. */
  read(): Promise<Uint8Array | string | undefined>;
  /** Stops reading and lets the connection go; never throws. */
  cancel(): void;
}

type Body = FetchResponse['body'];

function ignore(): void {}

/** A {@link ChunkReader} over a WHATWG `ReadableStream`, an async iterable (a Node.js `Readable`) or no body. */
export function chunkReader(body: Body): ChunkReader {
  if (body === null) {
    return { read: async () => undefined, cancel: ignore };
  }
  if ('getReader' in body) {
    const reader = body.getReader();
    return {
      async read() {
        const { done, value } = await reader.read();
        return done ? undefined : value;
      },
      cancel() {
        reader.cancel().catch(ignore);
      },
    };
  }
  const iterator = body[Symbol.asyncIterator]();
  return {
    async read() {
      const { done, value } = await iterator.next();
      return done ? undefined : value;
    },
    cancel() {
      iterator.return?.()?.catch(ignore);
    },
  };
}

/** How much of a refusal's body goes into the error: enough for a JSON error or an HTML title. */
export const BODY_SNIPPET_BYTES = 1024;
/** How long to wait for that much of a refusal's body before giving up on the rest (milliseconds). */
const BODY_SNIPPET_TIMEOUT_MS = 2000;

const encoder = new TextEncoder();

/**
 * Reads the start of a body (up to {@link BODY_SNIPPET_BYTES}) as UTF-8 text, then lets the rest go.
 * A body that stalls is given up on after a bounded wait, so an error is never held back by it.
 */
export async function readSnippet(body: Body): Promise<string> {
  const reader = chunkReader(body);
  const chunks: Uint8Array[] = [];
  let size = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(resolve, BODY_SNIPPET_TIMEOUT_MS, undefined);
  });
  try {
    while (size < BODY_SNIPPET_BYTES) {
      const chunk = await Promise.race([reader.read(), timeout]);
      if (chunk === undefined) break;
      const bytes = typeof chunk === 'string' ? encoder.encode(chunk) : chunk;
      chunks.push(bytes);
      size += bytes.length;
    }
  } catch {
    // A body that breaks halfway still gives what arrived before.
  } finally {
    clearTimeout(timer);
    reader.cancel();
  }
  const all = new Uint8Array(Math.min(size, BODY_SNIPPET_BYTES));
  let at = 0;
  for (const chunk of chunks) {
    if (at === all.length) break;
    const part = chunk.subarray(0, all.length - at);
    all.set(part, at);
    at += part.length;
  }
  // Streaming mode drops a character cut in half by the byte limit instead of showing U+FFFD.
  return new TextDecoder().decode(all, { stream: true });
}

/** Lets a body go without reading it. */
export function discardBody(body: Body): void {
  chunkReader(body).cancel();
}
