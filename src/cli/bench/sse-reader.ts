/**
 * A minimal event-stream reader for the load generator: splits lines, remembers `id:`, takes the
 * sequence number and publish time out of the `data:` line, and reports each event at its blank
 * line. Everything else (`event:`, `retry:`, comments, heartbeats) is skipped. It parses digits
 * straight from the bytes: the client must cost less than the servers it measures.
 */

/** Called once per event with data: its sequence number and publish time (-1, -1 when unreadable). */
export type EventSink = (seq: number, timeNs: number) => void;

const LF = 0x0a;
const CR = 0x0d;

export class SseReader {
  /** The last `id:` received, as the client would send it back in `Last-Event-ID`. */
  lastId: string | undefined;
  private pendingId: string | undefined;
  private seq = -1;
  private timeNs = -1;
  private hasData = false;
  /** Part of a line not ended yet. */
  private carry: Buffer | undefined;

  constructor(private readonly sink: EventSink) {}

  /** `feed` as a chunked decoder's sink. */
  readonly feedBody = (buffer: Buffer, start: number, end: number): void => this.feed(buffer, start, end);

  /** Forgets a partly read event (a new connection starts clean); keeps `lastId`. */
  resetLine(): void {
    this.carry = undefined;
    this.hasData = false;
    this.pendingId = undefined;
  }

  feed(buffer: Buffer, start: number, end: number): void {
    let from = start;
    if (this.carry !== undefined) {
      const newline = buffer.indexOf(LF, start);
      if (newline === -1 || newline >= end) {
        this.carry = Buffer.concat([this.carry, buffer.subarray(start, end)]);
        return;
      }
      const line = Buffer.concat([this.carry, buffer.subarray(start, newline)]);
      this.carry = undefined;
      this.line(line, 0, line.length);
      from = newline + 1;
    }
    while (from < end) {
      const newline = buffer.indexOf(LF, from);
      if (newline === -1 || newline >= end) {
        this.carry = Buffer.from(buffer.subarray(from, end));
        return;
      }
      this.line(buffer, from, newline);
      from = newline + 1;
    }
  }

  private line(buffer: Buffer, start: number, lineEnd: number): void {
    const end = lineEnd > start && buffer[lineEnd - 1] === CR ? lineEnd - 1 : lineEnd;
    if (end === start) {
      if (this.pendingId !== undefined) {
        this.lastId = this.pendingId;
        this.pendingId = undefined;
      }
      if (this.hasData) {
        this.hasData = false;
        this.sink(this.seq, this.timeNs);
      }
      return;
    }
    const first = buffer[start];
    // data:
    if (
      first === 0x64 &&
      buffer[start + 1] === 0x61 &&
      buffer[start + 2] === 0x74 &&
      buffer[start + 3] === 0x61 &&
      buffer[start + 4] === 0x3a
    ) {
      if (this.hasData) return; // One data line per event is all the bench sends.
      this.hasData = true;
      let at = start + 5;
      if (buffer[at] === 0x20) at++;
      if (buffer[at] === 0x22) at++; // A JSON string (better-sse's default serializer).
      let seq = 0;
      let digits = 0;
      for (
        let byte = buffer[at] as number;
        at < end && byte >= 0x30 && byte <= 0x39;
        byte = buffer[++at] as number
      ) {
        seq = seq * 10 + (byte - 0x30);
        digits++;
      }
      if (digits === 0 || buffer[at] !== 0x20) {
        this.seq = -1;
        this.timeNs = -1;
        return;
      }
      at++;
      let timeNs = 0;
      digits = 0;
      for (
        let byte = buffer[at] as number;
        at < end && byte >= 0x30 && byte <= 0x39;
        byte = buffer[++at] as number
      ) {
        timeNs = timeNs * 10 + (byte - 0x30);
        digits++;
      }
      this.seq = seq;
      this.timeNs = digits === 0 ? -1 : timeNs;
      return;
    }
    // id:
    if (first === 0x69 && buffer[start + 1] === 0x64 && buffer[start + 2] === 0x3a) {
      const at = buffer[start + 3] === 0x20 ? start + 4 : start + 3;
      this.pendingId = buffer.toString('latin1', at, end);
    }
  }
}
