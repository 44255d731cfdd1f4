import { ProtocolError } from './errors.js';
import type { SseEvent } from './types.js';

const LINE_BREAK = /\r\n|\r|\n/g;

function hasLineBreak(value: string): boolean {
  return value.indexOf('\n') !== -1 || value.indexOf('\r') !== -1;
}

function checkString(name: string, value: unknown): asserts value is string {
  if (typeof value !== 'string') {
    throw new ProtocolError(
      'invalid-field-type',
      `The event's ${name} must be a string, got ${typeof value}.`,
    );
  }
}

/** Writes `prefix` before every line of `value`, one line per CRLF, CR or LF in it. */
function lines(prefix: string, value: string): string {
  if (!hasLineBreak(value)) return `${prefix}${value}\n`;
  return `${prefix}${value.replace(LINE_BREAK, `\n${prefix}`)}\n`;
}

/**
 * Encodes one event as an event-stream frame: its lines, then a blank line.
 *
 * No input can inject a field or a frame: `data` and `comment` are split into one line each per
 * CRLF, CR or LF; an `event` or `id` that contains a line break, an `id` that contains NUL, or a
 * `retry` that is not a non-negative integer throws a {@link ProtocolError}.
 */
export function encode(event: SseEvent): string {
  let frame = '';
  const { data, event: type, id, retry, comment } = event;
  if (comment !== undefined) {
    checkString('comment', comment);
    frame += comment === '' ? ':\n' : lines(': ', comment);
  }
  if (type !== undefined) {
    checkString('event', type);
    if (hasLineBreak(type)) {
      throw new ProtocolError('event-has-newline', 'The event type must not contain CR or LF.');
    }
    frame += `event: ${type}\n`;
  }
  if (id !== undefined) {
    checkString('id', id);
    if (hasLineBreak(id))
      throw new ProtocolError('id-has-newline', 'The event ID must not contain CR or LF.');
    if (id.indexOf('\0') !== -1) {
      throw new ProtocolError('id-has-null', 'The event ID must not contain NUL (clients ignore such IDs).');
    }
    frame += `id: ${id}\n`;
  }
  if (retry !== undefined) {
    if (!Number.isSafeInteger(retry) || retry < 0) {
      throw new ProtocolError(
        'invalid-retry',
        // Not `${retry}`: a symbol, or an object without a usable toString, would throw a TypeError here.
        `retry must be a non-negative integer of milliseconds, got ${typeof retry === 'number' ? retry : typeof retry}.`,
      );
    }
    frame += `retry: ${retry}\n`;
  }
  if (data !== undefined) {
    checkString('data', data);
    frame += lines('data: ', data);
  }
  return `${frame}\n`;
}

const NodeBuffer: typeof Buffer | undefined = (globalThis as { Buffer?: typeof Buffer }).Buffer;
const textEncoder = new TextEncoder();

/** Encodes one event as {@link encode} does, as UTF-8 bytes ready to write (a `Buffer` on Node.js). */
export function encodeBytes(event: SseEvent): Uint8Array {
  const frame = encode(event);
  return NodeBuffer ? NodeBuffer.from(frame, 'utf8') : textEncoder.encode(frame);
}
