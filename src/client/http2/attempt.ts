/** One request of a fetch, which makes one per redirect it follows. */
export interface Attempt {
  url: URL;
  /** Uppercase. */
  method: string;
  /** Lowercase names. */
  headers: Record<string, string>;
  body: Uint8Array<ArrayBuffer> | undefined;
  signal: AbortSignal | undefined;
  /** Whether a redirect led here (the response's `redirected`). */
  redirected: boolean;
}

/** What the transport rejects with, as undici does: a TypeError "fetch failed" whose cause says why. */
export function fetchFailed(message: string, cause?: unknown): TypeError {
  return new TypeError(`fetch failed: ${message}`, cause === undefined ? undefined : { cause });
}
