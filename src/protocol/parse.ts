import { ProtocolError } from './errors.js';
import type { ParsedEvent, Parser, ParserOptions } from './types.js';

/** Default bound on an unfinished line plus the data of the event being built, in UTF-16 code units. */
export const DEFAULT_MAX_EVENT_SIZE = 16 * 1024 * 1024;

const LF = 10;
const CR = 13;
const SPACE = 32;
const COLON = 58;
const BOM = 0xfeff;
const DIGITS = /^[0-9]+$/;

/** Chunks up to this many bytes that are all ASCII are turned into text without the decoder. */
const SMALL_CHUNK = 32;

function isAscii(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if ((bytes[i] as number) >= 0x80) return false;
  return true;
}

/** `text` holds `name` followed by a colon at `at` (hand-unrolled `startsWith`, the hot path). */
function isField(text: string, at: number, name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    if (text.charCodeAt(at + i) !== name.charCodeAt(i)) return false;
  }
  return text.charCodeAt(at + name.length) === COLON;
}

/** Where a field's value starts when its name (and colon) ends at `afterColon`: one space is skipped. */
function valueStart(text: string, afterColon: number): number {
  return text.charCodeAt(afterColon) === SPACE ? afterColon + 1 : afterColon;
}

/**
 * Creates a streaming parser that implements the WHATWG HTML "event stream interpretation".
 *
 * It has no I/O: feed it text or bytes in chunks of any size and it calls `onEvent` for every
 * event a browser's `EventSource` would dispatch, with the same type, data and last event ID.
 */
export function createParser(options: ParserOptions): Parser {
  const { onEvent, onRetry, onComment } = options;
  const maxEventSize = options.maxEventSize ?? DEFAULT_MAX_EVENT_SIZE;

  let decoder: TextDecoder | undefined;
  // The streaming decoder may hold the first bytes of a character split across chunks.
  let decoderHasBytes = false;
  let bomChecked = false;
  // The previous chunk ended with CR: an LF at the start of the next chunk belongs to that line end.
  let skipLeadingLF = false;
  let pendingLine = '';
  let data = '';
  let hasData = false;
  let eventType = '';
  let lastEventId = options.lastEventId ?? '';
  let idBuffer = lastEventId;

  function discard(): void {
    decoder = undefined;
    decoderHasBytes = false;
    bomChecked = false;
    skipLeadingLF = false;
    pendingLine = '';
    data = '';
    hasData = false;
    eventType = '';
    idBuffer = lastEventId;
  }

  function tooLarge(): never {
    discard();
    throw new ProtocolError(
      'event-too-large',
      `An event exceeded maxEventSize (${maxEventSize} code units).`,
    );
  }

  function dispatch(): void {
    lastEventId = idBuffer;
    if (!hasData) {
      eventType = '';
      return;
    }
    const event: ParsedEvent = { type: eventType === '' ? 'message' : eventType, data, lastEventId };
    data = '';
    hasData = false;
    eventType = '';
    onEvent(event);
  }

  function appendData(value: string): void {
    if (hasData) {
      data += `\n${value}`;
      if (data.length > maxEventSize) tooLarge();
    } else {
      data = value;
      hasData = true;
    }
  }

  function processField(field: string, value: string): void {
    switch (field) {
      case 'data':
        appendData(value);
        break;
      case 'event':
        eventType = value;
        break;
      case 'id':
        if (value.indexOf('\0') === -1) idBuffer = value;
        break;
      case 'retry':
        if (onRetry && DIGITS.test(value)) onRetry(Number.parseInt(value, 10));
        break;
    }
  }

  /** Processes the line `text[start, end)`, without its line end. */
  function processLine(text: string, start: number, end: number): void {
    if (start === end) {
      dispatch();
      return;
    }
    const first = text.charCodeAt(start);
    // The common shapes are checked in place, without cutting the line out of the chunk first.
    if (first === 100 /* d */ && isField(text, start, 'data')) {
      appendData(text.slice(valueStart(text, start + 5), end));
    } else if (first === 105 /* i */ && isField(text, start, 'id')) {
      const id = text.slice(valueStart(text, start + 3), end);
      if (id.indexOf('\0') === -1) idBuffer = id;
    } else if (first === 101 /* e */ && isField(text, start, 'event')) {
      eventType = text.slice(valueStart(text, start + 6), end);
    } else if (first === COLON) {
      if (onComment) onComment(text.slice(valueStart(text, start + 1), end));
    } else {
      const line = text.slice(start, end);
      const colon = line.indexOf(':');
      if (colon === -1) processField(line, '');
      else processField(line.slice(0, colon), line.slice(valueStart(line, colon + 1)));
    }
  }

  /** Parses lines of a chunk that holds no CR from `start`; returns where the unfinished rest begins. */
  function parseLF(text: string, start: number): number {
    let end = text.indexOf('\n', start);
    while (end !== -1) {
      if (
        start !== end &&
        text.charCodeAt(start) === 100 &&
        text.charCodeAt(start + 1) === 97 &&
        text.charCodeAt(start + 2) === 116 &&
        text.charCodeAt(start + 3) === 97 &&
        text.charCodeAt(start + 4) === COLON
      ) {
        const value = text.slice(valueStart(text, start + 5), end);
        if (!hasData && text.charCodeAt(end + 1) === LF) {
          // The most common event of all, one data line and a blank line: dispatched straight
          // from the chunk, without going through the data buffer.
          lastEventId = idBuffer;
          const event: ParsedEvent = {
            type: eventType === '' ? 'message' : eventType,
            data: value,
            lastEventId,
          };
          eventType = '';
          start = end + 2;
          end = text.indexOf('\n', start);
          onEvent(event);
          continue;
        }
        appendData(value);
      } else if (
        text.charCodeAt(start) === 105 &&
        text.charCodeAt(start + 1) === 100 &&
        text.charCodeAt(start + 2) === COLON
      ) {
        const id = text.slice(valueStart(text, start + 3), end);
        if (id.indexOf('\0') === -1) idBuffer = id;
      } else {
        processLine(text, start, end);
      }
      start = end + 1;
      end = text.indexOf('\n', start);
    }
    return start;
  }

  /** Parses lines ended by CR, LF or CRLF from `start`; returns where the unfinished rest begins. */
  function parseAny(text: string, start: number): number {
    const length = text.length;
    // Both positions are cached and searched again only once passed, so the chunk is scanned
    // once however many lines it holds.
    let nextLF = -2;
    let nextCR = -2;
    while (start < length) {
      if (nextLF !== -1 && nextLF < start) nextLF = text.indexOf('\n', start);
      if (nextCR !== -1 && nextCR < start) nextCR = text.indexOf('\r', start);
      let end: number;
      if (nextCR === -1) {
        if (nextLF === -1) break;
        end = nextLF;
      } else {
        end = nextLF === -1 || nextCR < nextLF ? nextCR : nextLF;
      }
      let next = end + 1;
      if (text.charCodeAt(end) === CR) {
        if (next === length) skipLeadingLF = true;
        else if (text.charCodeAt(next) === LF) next++;
      }
      processLine(text, start, end);
      start = next;
    }
    return start;
  }

  function parse(text: string): void {
    let start = 0;
    if (skipLeadingLF) {
      skipLeadingLF = false;
      if (text.charCodeAt(0) === LF) start = 1;
    }
    let cr = text.indexOf('\r', start);
    if (pendingLine !== '') {
      // Finish the line the previous chunk left open, then go on with this chunk alone.
      const lf = text.indexOf('\n', start);
      const end = cr === -1 ? lf : lf === -1 || cr < lf ? cr : lf;
      if (end === -1) {
        // A string built by += is a rope in V8, so a long line fed in small pieces stays linear.
        pendingLine += start === 0 ? text : text.slice(start);
        if (pendingLine.length + data.length > maxEventSize) tooLarge();
        return;
      }
      const line = pendingLine + text.slice(start, end);
      pendingLine = '';
      start = end + 1;
      if (end === cr) {
        if (start === text.length) skipLeadingLF = true;
        else if (text.charCodeAt(start) === LF) start++;
        cr = text.indexOf('\r', start);
      }
      processLine(line, 0, line.length);
    }
    start = cr === -1 ? parseLF(text, start) : parseAny(text, start);
    if (start < text.length) {
      pendingLine = start === 0 ? text : text.slice(start);
      if (pendingLine.length + data.length > maxEventSize) tooLarge();
    }
  }

  function decode(bytes: Uint8Array): string {
    decoder ??= new TextDecoder('utf-8', { ignoreBOM: true });
    const last = bytes[bytes.length - 1];
    if (last === undefined) return '';
    if (!decoderHasBytes && bytes.length <= SMALL_CHUNK && isAscii(bytes)) {
      // Tiny chunks (a byte at a time, say) cost more to hand to the decoder than to copy.
      return String.fromCharCode.apply(null, bytes as unknown as number[]);
    }
    if (!decoderHasBytes && last < 0x80) {
      // The chunk ends on a whole character: the one-shot decode is several times faster
      // than the streaming one, and gives the same text.
      return decoder.decode(bytes);
    }
    decoderHasBytes = last >= 0x80;
    return decoder.decode(bytes, { stream: true });
  }

  return {
    feed(chunk: string | Uint8Array): void {
      let text = typeof chunk === 'string' ? chunk : decode(chunk);
      if (!bomChecked && text.length > 0) {
        bomChecked = true;
        if (text.charCodeAt(0) === BOM) text = text.slice(1);
      }
      if (text.length > 0) parse(text);
    },
    end: discard,
    reset: discard,
    get lastEventId(): string {
      return lastEventId;
    },
  };
}

/**
 * Parses a whole event stream at once and returns its events, as a browser would dispatch them
 * (an unfinished event at the end is discarded).
 */
export function parseAll(stream: string | Uint8Array): ParsedEvent[] {
  const events: ParsedEvent[] = [];
  const parser = createParser({ onEvent: (event) => events.push(event) });
  parser.feed(stream);
  parser.end();
  return events;
}
