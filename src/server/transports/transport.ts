import type { Frame } from '../frame.js';

/**
 * What an event stream needs from the connection under it, and nothing more: one
 * implementation per server kind (node:http 1.1, node:http2, Web `Response`), so the stream
 * logic never knows which one it runs on.
 */
export interface Transport {
  /** Writes a frame; returns false once the transport buffers more than its high-water mark. */
  write(frame: Frame): boolean;
  /** Bytes written but not yet taken by the operating system or the runtime. */
  readonly bufferedBytes: number;
  /** Ends the response cleanly, after what is buffered. */
  end(): void;
  /** Drops the connection at once, discarding what is buffered. */
  destroy(): void;
  /** Calls `listener` once, when the buffered bytes have been taken (or the transport closed). */
  onceDrain(listener: () => void): void;
}

/** Called once when the connection is gone, whoever ended it. */
export type CloseListener = () => void;
