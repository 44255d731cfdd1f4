import { encodeBytes, type SseEvent } from '../protocol/index.js';

const CRLF = Buffer.from('\r\n');

/**
 * One encoded event, ready to be written to any number of streams. The bytes are made once;
 * the HTTP/1.1 chunked form (size line, bytes, CRLF) is made once too, the first time a
 * chunked response needs it, so a broadcast costs one encoding whatever the transports.
 */
export class Frame {
  readonly bytes: Buffer;
  private chunkedBytes: Buffer | undefined;

  constructor(bytes: Uint8Array) {
    this.bytes = Buffer.isBuffer(bytes)
      ? bytes
      : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Encodes an event (throws the protocol's `ProtocolError` for a field that would break the frame). */
  static of(event: SseEvent): Frame {
    return new Frame(encodeBytes(event));
  }

  /** The frame as one HTTP/1.1 chunk. */
  get chunked(): Buffer {
    if (this.chunkedBytes === undefined) {
      const size = Buffer.from(`${this.bytes.length.toString(16)}\r\n`, 'latin1');
      this.chunkedBytes = Buffer.concat([size, this.bytes, CRLF], size.length + this.bytes.length + 2);
    }
    return this.chunkedBytes;
  }
}

/** The heartbeat: an empty comment line, which every client ignores. */
export const HEARTBEAT = new Frame(Buffer.from(':\n'));
