/**
 * Just enough HTTP/1.1 to read the servers' responses: the response head, and the body's framing
 * (chunked, Content-Length, or until the connection closes, as nchan's event streams are).
 */

export type BodyFraming = 'chunked' | 'length' | 'close';

export interface ResponseHead {
  status: number;
  framing: BodyFraming;
  /** With framing 'length'. */
  contentLength: number;
  /** Bytes of the head, blank line included: the body starts there. */
  size: number;
}

const CRLFCRLF = Buffer.from('\r\n\r\n');

/** Parses a response head at the start of `buffer`; undefined while it is incomplete. Throws when malformed. */
export function parseHead(buffer: Buffer): ResponseHead | undefined {
  const end = buffer.indexOf(CRLFCRLF);
  if (end === -1) {
    if (buffer.length > 64 * 1024) throw new Error('response head over 64 KiB');
    return undefined;
  }
  const lines = buffer.toString('latin1', 0, end).split('\r\n');
  const statusLine = lines[0] ?? '';
  const match = statusLine.match(/^HTTP\/1\.[01] (\d{3})/);
  if (!match) throw new Error(`not an HTTP/1.x response: ${JSON.stringify(statusLine.slice(0, 80))}`);
  let framing: BodyFraming = 'close';
  let contentLength = 0;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] as string;
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'transfer-encoding' && value.toLowerCase().includes('chunked')) framing = 'chunked';
    else if (name === 'content-length' && framing !== 'chunked') {
      framing = 'length';
      contentLength = Number(value);
    }
  }
  return { status: Number(match[1]), framing, contentLength, size: end + 4 };
}

/** Receives body bytes: `buffer[start, end)`. */
export type BodySink = (buffer: Buffer, start: number, end: number) => void;

const SIZE = 0;
const EXTENSION = 1;
const DATA = 2;
const DATA_END = 3;
const TRAILER = 4;
const DONE = 5;

/**
 * A streaming decoder of the chunked transfer coding: feed it the bytes as they arrive, it hands
 * the chunks' contents to the sink without copying.
 */
export class ChunkedDecoder {
  private state = SIZE;
  private size = 0;
  private remaining = 0;
  private lineLength = 0;

  constructor(private readonly sink: BodySink) {}

  /** True once the last (empty) chunk and the trailer have been read. */
  get done(): boolean {
    return this.state === DONE;
  }

  feed(buffer: Buffer, start: number): void {
    let at = start;
    const length = buffer.length;
    while (at < length) {
      switch (this.state) {
        case SIZE: {
          const byte = buffer[at++] as number;
          if (byte === 0x0d) continue;
          if (byte === 0x0a) {
            this.state = this.size === 0 ? TRAILER : DATA;
            this.remaining = this.size;
            this.size = 0;
            this.lineLength = 0;
          } else if (byte === 0x3b) {
            this.state = EXTENSION;
          } else {
            const digit = hexValue(byte);
            if (digit === -1) throw new Error(`bad chunk size byte 0x${byte.toString(16)}`);
            this.size = this.size * 16 + digit;
          }
          break;
        }
        case EXTENSION:
          if (buffer[at++] === 0x0a) {
            this.state = this.size === 0 ? TRAILER : DATA;
            this.remaining = this.size;
            this.size = 0;
            this.lineLength = 0;
          }
          break;
        case DATA: {
          const end = Math.min(length, at + this.remaining);
          this.sink(buffer, at, end);
          this.remaining -= end - at;
          at = end;
          if (this.remaining === 0) this.state = DATA_END;
          break;
        }
        case DATA_END:
          if (buffer[at++] === 0x0a) this.state = SIZE;
          break;
        case TRAILER: {
          // Trailer lines until an empty one.
          const byte = buffer[at++];
          if (byte === 0x0a) {
            if (this.lineLength === 0) this.state = DONE;
            this.lineLength = 0;
          } else if (byte !== 0x0d) {
            this.lineLength++;
          }
          break;
        }
        default:
          return; // DONE: bytes after the body belong to no one here.
      }
    }
  }
}

function hexValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x57;
  if (byte >= 0x41 && byte <= 0x46) return byte - 0x37;
  return -1;
}
