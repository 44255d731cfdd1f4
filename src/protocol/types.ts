/** An event to send. Every field is optional; absent fields are not written. */
export interface SseEvent {
  /** The payload. Split on CRLF, CR and LF into one `data:` line each, so it can never end the frame. */
  data?: string;
  /** The event type (`event:`). The browser dispatches it to `addEventListener(type)`; absent means `message`. */
  event?: string;
  /** The event ID (`id:`). The client sends it back as `Last-Event-ID` when it reconnects. */
  id?: string;
  /** The client's reconnection delay in milliseconds (`retry:`). */
  retry?: number;
  /** A comment (`: text`), ignored by clients; useful as a heartbeat. */
  comment?: string;
}

/** An event as the WHATWG "event stream interpretation" dispatches it. */
export interface ParsedEvent {
  /** The event type: the last `event:` value of the block, or `"message"` when there was none or it was empty. */
  type: string;
  /** The `data:` lines of the block joined with LF. */
  data: string;
  /** The last event ID string at dispatch time; it persists across events until a new `id:` changes it. */
  lastEventId: string;
}

export interface ParserOptions {
  /** Called for every dispatched event. */
  onEvent: (event: ParsedEvent) => void;
  /** Called when a `retry:` field made only of ASCII digits arrives; the value is in milliseconds. */
  onRetry?: (ms: number) => void;
  /** Called for every comment line with the text after the colon (one leading space removed). */
  onComment?: (text: string) => void;
  /** The last event ID the stream starts from (for example, kept across reconnections). Default `""`. */
  lastEventId?: string;
  /**
   * Upper bound, in UTF-16 code units, on an unfinished line plus the data of the event being built.
   * A stream that exceeds it makes `feed` throw a `ProtocolError` with code `event-too-large`.
   * Default 16 MiB.
   */
  maxEventSize?: number;
}

export interface Parser {
  /** Feeds the next chunk of the stream: text, or bytes decoded as UTF-8 (streaming). */
  feed(chunk: string | Uint8Array): void;
  /** Ends the stream: an unfinished event is discarded. The parser can then read a new stream. */
  end(): void;
  /** Discards everything pending, as `end()` does, for example before reading a reconnected stream. */
  reset(): void;
  /** The last event ID string: set when a block is dispatched, kept across `end()` and `reset()`. */
  readonly lastEventId: string;
}
