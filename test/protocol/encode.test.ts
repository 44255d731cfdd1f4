import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encode, encodeBytes, ProtocolError, parseAll, type SseEvent } from '../../src/protocol/index.js';
import { chunkings, parseWith } from './chunking.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error).toBeInstanceOf(TypeError);
    return (error as ProtocolError).code;
  }
  return undefined;
}

describe('encode', () => {
  it('writes each field on its own line and ends the frame with a blank line', () => {
    expect(encode({ data: 'hello' })).toBe('data: hello\n\n');
    expect(encode({ event: 'price', id: '7', retry: 2500, data: '42' })).toBe(
      'event: price\nid: 7\nretry: 2500\ndata: 42\n\n',
    );
    expect(encode({ comment: 'keep-alive' })).toBe(': keep-alive\n\n');
    expect(encode({ comment: '' })).toBe(':\n\n');
    expect(encode({ data: '' })).toBe('data: \n\n');
    expect(encode({ id: '' })).toBe('id: \n\n');
  });

  it('splits data on CRLF, CR and LF into one data line each', () => {
    expect(encode({ data: 'a\r\nb\rc\nd' })).toBe('data: a\ndata: b\ndata: c\ndata: d\n\n');
    expect(encode({ data: '\n\n' })).toBe('data: \ndata: \ndata: \n\n');
  });

  it('cannot be made to inject a field or a frame through data or a comment', () => {
    const attack = 'x\n\nevent: admin\nid: 999\ndata: injected\r\rdata: more';
    const frame = encode({ data: attack, comment: attack });
    const events = parseAll(frame);
    expect(events).toEqual([{ type: 'message', data: attack.replace(/\r\n|\r/g, '\n'), lastEventId: '' }]);
  });

  it('keeps leading spaces of data lines', () => {
    expect(parseAll(encode({ data: ' a\n  b' }))[0]?.data).toBe(' a\n  b');
  });

  it('refuses an event type with CR or LF', () => {
    expect(codeOf(() => encode({ event: 'a\nb' }))).toBe('event-has-newline');
    expect(codeOf(() => encode({ event: 'a\rb' }))).toBe('event-has-newline');
  });

  it('refuses an id with CR, LF or NUL', () => {
    expect(codeOf(() => encode({ id: '1\n' }))).toBe('id-has-newline');
    expect(codeOf(() => encode({ id: '\r1' }))).toBe('id-has-newline');
    expect(codeOf(() => encode({ id: '1\u00002' }))).toBe('id-has-null');
  });

  it('refuses a retry that is not a non-negative integer', () => {
    for (const retry of [
      -1,
      1.5,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      2 ** 60,
      '100' as unknown as number,
    ]) {
      expect(codeOf(() => encode({ retry }))).toBe('invalid-retry');
    }
    expect(encode({ retry: 0 })).toBe('retry: 0\n\n');
  });

  it('refuses fields that are not strings', () => {
    expect(codeOf(() => encode({ data: 5 as unknown as string }))).toBe('invalid-field-type');
    expect(codeOf(() => encode({ event: null as unknown as string }))).toBe('invalid-field-type');
    expect(codeOf(() => encode({ id: {} as unknown as string }))).toBe('invalid-field-type');
    expect(codeOf(() => encode({ comment: 1 as unknown as string }))).toBe('invalid-field-type');
  });

  it('encodeBytes gives the UTF-8 bytes of encode', () => {
    const event = { event: 'caf\u00e9', data: '\u20ac \u{1F600}\nline' };
    const bytes = encodeBytes(event);
    expect(bytes).toBeInstanceOf(Uint8Array);
    expect(new TextDecoder().decode(bytes)).toBe(encode(event));
  });
});

// Unicode text with line breaks of every kind mixed in, and the characters that matter to the format.
const unicodeWithBreaks = fc.string({
  unit: fc.oneof(
    { weight: 6, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
    { weight: 2, arbitrary: fc.constantFrom('\r', '\n', '\r\n', '\n\r', ':', ' ', '\0', '\uFEFF') },
  ),
  maxLength: 60,
});
const noBreaks = (value: string) => !/[\r\n]/.test(value);
const fieldText = unicodeWithBreaks.filter(noBreaks);
const idText = fieldText.filter((value) => !value.includes('\0'));

describe('encode and parse, property-based', () => {
  it('parse(encode(e)) gives back e, in any chunking', () => {
    fc.assert(
      fc.property(
        unicodeWithBreaks,
        fc.option(fieldText, { nil: undefined }),
        fc.option(idText, { nil: undefined }),
        fc.option(fc.nat(), { nil: undefined }),
        fc.option(unicodeWithBreaks, { nil: undefined }),
        fc.constantFrom(...Object.keys(chunkings)),
        (data, event, id, retry, comment, chunking) => {
          const input: SseEvent = { data, event, id, retry, comment };
          const frame = encodeBytes(input);
          const chunk = chunkings[chunking];
          if (!chunk) throw new Error(`no chunking ${chunking}`);
          const result = parseWith(frame, chunk);
          expect(result.events).toEqual([
            {
              type: event === undefined || event === '' ? 'message' : event,
              data: data.replace(/\r\n|\r/g, '\n'),
              lastEventId: id ?? '',
            },
          ]);
          expect(result.retries).toEqual(retry === undefined ? [] : [retry]);
          if (comment !== undefined) {
            expect(result.comments.join('\n')).toBe(comment.replace(/\r\n|\r/g, '\n'));
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('any input either throws a ProtocolError or yields exactly one event', () => {
    fc.assert(
      fc.property(
        unicodeWithBreaks,
        fc.option(unicodeWithBreaks, { nil: undefined }),
        fc.option(unicodeWithBreaks, { nil: undefined }),
        fc.option(fc.oneof(fc.integer(), fc.double()), { nil: undefined }),
        fc.option(unicodeWithBreaks, { nil: undefined }),
        (data, event, id, retry, comment) => {
          let frame: string;
          try {
            frame = encode({ data, event, id, retry, comment });
          } catch (error) {
            expect(error).toBeInstanceOf(ProtocolError);
            return;
          }
          const events = parseAll(frame);
          expect(events).toHaveLength(1);
          expect(events[0]?.data).toBe(data.replace(/\r\n|\r/g, '\n'));
        },
      ),
      { numRuns: 1000 },
    );
  });
});
