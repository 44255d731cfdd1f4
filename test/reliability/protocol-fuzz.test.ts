// The protocol core under random input (test/protocol has the rules one by one and round trips of
// one event): random bytes, in random chunks, against a plain transcription of the WHATWG algorithm;
// the only error the parser may throw is event-too-large; and the encoder, given values of any type.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createParser,
  encode,
  encodeBytes,
  type ParsedEvent,
  ProtocolError,
  parseAll,
  type SseEvent,
} from '../../src/protocol/index.js';

interface Outcome {
  events: ParsedEvent[];
  retries: number[];
  comments: string[];
}

/**
 * The "event stream interpretation" of the HTML standard, transcribed as plainly as possible: decode
 * the whole stream (one leading BOM dropped, invalid UTF-8 as U+FFFD), cut it at CRLF, CR and LF,
 * process each line; what follows the last line end is unfinished and discarded.
 */
function reference(bytes: Uint8Array): Outcome {
  const outcome: Outcome = { events: [], retries: [], comments: [] };
  const lines = new TextDecoder('utf-8').decode(bytes).split(/\r\n|\r|\n/);
  lines.pop();
  let data = '';
  let type = '';
  let lastEventId = '';
  let idBuffer = '';
  for (const line of lines) {
    if (line === '') {
      lastEventId = idBuffer;
      if (data !== '') {
        outcome.events.push({ type: type === '' ? 'message' : type, data: data.slice(0, -1), lastEventId });
      }
      data = '';
      type = '';
      continue;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (colon === 0) outcome.comments.push(value);
    else if (field === 'data') data += `${value}\n`;
    else if (field === 'event') type = value;
    else if (field === 'id' && !value.includes('\0')) idBuffer = value;
    else if (field === 'retry' && /^[0-9]+$/.test(value)) outcome.retries.push(Number.parseInt(value, 10));
  }
  return outcome;
}

/** Feeds `chunks` to a parser, then ends the stream. */
function parse(chunks: Array<Uint8Array | string>, maxEventSize?: number): Outcome {
  const outcome: Outcome = { events: [], retries: [], comments: [] };
  const parser = createParser({
    onEvent: (event) => outcome.events.push(event),
    onRetry: (ms) => outcome.retries.push(ms),
    onComment: (text) => outcome.comments.push(text),
    maxEventSize,
  });
  for (const chunk of chunks) parser.feed(chunk);
  parser.end();
  return outcome;
}

const ascii = (text: string) => [...Buffer.from(text, 'utf8')];

/** A value's bytes: text, bytes that are not UTF-8, NUL, a BOM, digits. */
const valueBytes = fc
  .array(
    fc.oneof(
      {
        weight: 4,
        arbitrary: fc.constantFrom('x', 'y', ' ', ':', '0', '12', 'é', '\u2028', '\0').map(ascii),
      },
      { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }).map((byte) => [byte]) },
      {
        weight: 1,
        arbitrary: fc.constantFrom(
          [0xef, 0xbb, 0xbf],
          [0xc3],
          [0xe2, 0x82],
          [0xf0, 0x9f, 0x98],
          [0xed, 0xa0, 0x80],
        ),
      },
    ),
    { maxLength: 5 },
  )
  .map((parts) => parts.flat());
/** One line: a field name (or not), its value, a line end of any kind, or a blank line too. */
const line = fc
  .tuple(
    fc.constantFrom(
      'data:',
      'data: ',
      'data',
      'id:',
      'id: ',
      'event: ',
      'retry:',
      'retry: ',
      ':',
      '',
      'Data: ',
      'x',
    ),
    valueBytes,
    fc.constantFrom([10], [13], [13, 10], [10, 10], [13, 13], [13, 10, 13, 10], [10, 13]),
  )
  .map(([field, value, end]) => [...ascii(field), ...value, ...end]);
const stream = fc
  .tuple(
    fc.boolean(),
    fc.array(fc.oneof({ weight: 9, arbitrary: line }, { weight: 1, arbitrary: valueBytes }), {
      maxLength: 30,
    }),
  )
  .map(([bom, lines]) => Uint8Array.from([...(bom ? [0xef, 0xbb, 0xbf] : []), ...lines.flat()]));

/** Where to cut something of `length` at the given points (taken modulo the length): [start, end) pairs. */
function ranges(length: number, points: number[]): Array<[number, number]> {
  const at = [...new Set(points.map((point) => point % (length + 1)))].sort((a, b) => a - b);
  const result: Array<[number, number]> = [];
  let start = 0;
  for (const point of [...at, length]) {
    result.push([start, point]);
    start = point;
  }
  return result;
}

const cut = (bytes: Uint8Array, points: number[]) =>
  ranges(bytes.length, points).map(([start, end]) => bytes.subarray(start, end));

describe('the parser under random bytes (fast-check)', () => {
  it('dispatches what the standard says, whole or in any chunks, as bytes or as text, and never throws', () => {
    fc.assert(
      fc.property(stream, fc.array(fc.nat(), { maxLength: 20 }), (bytes, points) => {
        const expected = reference(bytes);
        expect(parse([bytes])).toEqual(expected);
        expect(parse(cut(bytes, points))).toEqual(expected);
        expect(parse(Array.from(bytes, (byte) => Uint8Array.of(byte)))).toEqual(expected);
        // Text in pieces: what a caller that decodes the bytes itself feeds.
        const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes);
        expect(parse(ranges(text.length, points).map(([start, end]) => text.slice(start, end)))).toEqual(
          expected,
        );
      }),
      { numRuns: 2000 },
    );
  });

  it('throws nothing but event-too-large past maxEventSize, and goes on parsing after it', () => {
    fc.assert(
      fc.property(
        stream,
        fc.integer({ min: 1, max: 64 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (bytes, max, points) => {
          const events: ParsedEvent[] = [];
          const parser = createParser({ onEvent: (event) => events.push(event), maxEventSize: max });
          for (const chunk of cut(bytes, points)) {
            try {
              parser.feed(chunk);
            } catch (error) {
              expect(error).toBeInstanceOf(ProtocolError);
              expect((error as ProtocolError).code).toBe('event-too-large');
            }
          }
          // Whatever came before, a new stream on the same parser parses.
          parser.end();
          events.length = 0;
          parser.feed('data: ok\n\n');
          expect(events.map((event) => event.data)).toEqual(['ok']);
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('the encoder under random values (fast-check)', () => {
  it('refuses a retry it cannot even print with a ProtocolError (invalid-retry), not a bare TypeError', () => {
    const unprintable: unknown[] = [
      { toString: 0 },
      Object.create(null),
      Symbol('retry'),
      {
        toString() {
          throw new Error('no');
        },
      },
    ];
    for (const retry of unprintable) {
      let error: unknown;
      try {
        encode({ data: 'x', retry } as unknown as SseEvent);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ProtocolError);
      expect((error as ProtocolError).code).toBe('invalid-retry');
    }
  });

  const anyField = fc.option(fc.oneof(fc.string({ unit: 'binary' }), fc.anything()), { nil: undefined });

  it('given values of any type, throws a ProtocolError or writes one frame that parses back to one event', () => {
    fc.assert(
      fc.property(anyField, anyField, anyField, anyField, anyField, (data, event, id, retry, comment) => {
        const input = { data, event, id, retry, comment } as unknown as SseEvent;
        let frame: string;
        try {
          frame = encode(input);
        } catch (error) {
          expect(error).toBeInstanceOf(ProtocolError);
          return;
        }
        // An event with no field at all is a blank line, which dispatches nothing.
        if ([data, event, id, retry, comment].every((field) => field === undefined)) expect(frame).toBe('\n');
        else expect(frame.endsWith('\n\n')).toBe(true);
        expect(frame).not.toMatch(/\r/);
        expect(new TextDecoder().decode(encodeBytes(input))).toBe(frame);
        const events = parseAll(frame);
        if (data === undefined && event === undefined && id === undefined) expect(events).toEqual([]);
        else if (data === undefined) expect(events).toEqual([]);
        else expect(events).toHaveLength(1);
      }),
      { numRuns: 2000 },
    );
  });

  it('a run of encoded events parses back to the same events, in order, in any chunks', () => {
    const text = fc.string({ unit: 'binary', maxLength: 30 });
    const line = text.map((value) => value.replace(/[\r\n]/g, ''));
    const sse = fc.record({
      data: text,
      event: fc.option(line, { nil: undefined }),
      id: fc.option(
        line.map((value) => value.replace(/\0/g, '')),
        { nil: undefined },
      ),
      retry: fc.option(fc.nat(), { nil: undefined }),
    });
    fc.assert(
      fc.property(
        fc.array(sse, { maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        (events, points) => {
          const bytes = Buffer.concat(events.map((event) => encodeBytes(event)));
          const outcome = parse(cut(bytes, points));
          let lastEventId = '';
          const expected = events.map((event) => {
            if (event.id !== undefined) lastEventId = event.id;
            return {
              type: event.event === undefined || event.event === '' ? 'message' : event.event,
              data: event.data.replace(/\r\n|\r/g, '\n'),
              lastEventId,
            };
          });
          expect(outcome.events).toEqual(expected);
          expect(outcome.retries).toEqual(
            events.flatMap((event) => (event.retry === undefined ? [] : [event.retry])),
          );
        },
      ),
      { numRuns: 1000 },
    );
  });
});
