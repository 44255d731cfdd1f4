import { describe, expect, it } from 'vitest';
import { createParser, ProtocolError, parseAll } from '../../src/protocol/index.js';
import { message, parseEveryWay } from './chunking.js';

// Each case is one rule of the WHATWG "event stream interpretation" (HTML §9.2.6), most of them
// named after the WPT eventsource test that checks the same rule in browsers. parseEveryWay feeds
// the input whole, a byte at a time, a character at a time and in random splits, and fails unless
// every way gives the same result.

describe('createParser: the WHATWG event stream interpretation', () => {
  it('dispatches a data event as "message"', () => {
    expect(parseEveryWay('data: hello\n\n').events).toEqual([message('hello')]);
  });

  it('drops one leading BOM, and only the first (format-bom)', () => {
    const result = parseEveryWay('\uFEFFdata:1\n\n\uFEFFdata:2\n\ndata:3\n\n');
    expect(result.events).toEqual([message('1'), message('3')]);
  });

  it('treats a second leading BOM as part of a field name (format-bom-2)', () => {
    const result = parseEveryWay('\uFEFF\uFEFFdata:1\n\ndata:2\n\ndata:3\n\n');
    expect(result.events).toEqual([message('2'), message('3')]);
  });

  it('ends lines at CRLF, LF and CR alike (format-newlines)', () => {
    expect(parseEveryWay('data:test\r\ndata\ndata:test\r\r\n').events).toEqual([message('test\n\ntest')]);
    expect(parseEveryWay('data:a\rdata:b\n\rdata:c\r\n\r\n').events).toEqual([message('a\nb'), message('c')]);
  });

  it('keeps a CR at the end of one chunk and an LF at the start of the next as one line end', () => {
    const events: string[] = [];
    const parser = createParser({ onEvent: (event) => events.push(event.data) });
    parser.feed('data: one\r');
    parser.feed('\ndata: two\r');
    parser.feed('\n\r');
    parser.feed('\n');
    // CRLF across chunks is one line end: "one" and "two" are in one event, then CR LF ends it.
    expect(events).toEqual(['one\ntwo']);
    parser.feed('data: three\r');
    parser.feed('\r');
    expect(events).toEqual(['one\ntwo', 'three']);
  });

  it('dispatches on a CR without waiting to see whether an LF follows', () => {
    const events: string[] = [];
    const parser = createParser({ onEvent: (event) => events.push(event.data) });
    parser.feed('data: now\r\r');
    expect(events).toEqual(['now']);
  });

  it('decodes UTF-8 split across chunks (format-utf-8)', () => {
    const bytes = new TextEncoder().encode('data: h\u00e9llo \u20ac \u{1F600}\n\n');
    const events: string[] = [];
    const parser = createParser({ onEvent: (event) => events.push(event.data) });
    // Split inside the 2-, 3- and 4-byte sequences.
    for (const [from, to] of [
      [0, 8],
      [8, 14],
      [14, 16],
      [16, 19],
      [19, bytes.length],
    ]) {
      parser.feed(bytes.subarray(from, to));
    }
    expect(events).toEqual(['h\u00e9llo \u20ac \u{1F600}']);
    expect(parseEveryWay(bytes).events).toEqual([message('h\u00e9llo \u20ac \u{1F600}')]);
  });

  it('turns invalid UTF-8 into U+FFFD', () => {
    const bytes = Uint8Array.from([
      ...new TextEncoder().encode('data: a'),
      0xff,
      0xc3, // a lead byte with no continuation
      ...new TextEncoder().encode('b\n\n'),
    ]);
    expect(parseEveryWay(bytes).events).toEqual([message('a\uFFFD\uFFFDb')]);
  });

  it('strips one space after the colon, no more, and keeps tabs (format-leading-space)', () => {
    expect(parseEveryWay('data:\ttest\rdata: \ndata:test\n\n').events).toEqual([message('\ttest\n\ntest')]);
    expect(parseEveryWay('data:  two spaces\n\n').events).toEqual([message(' two spaces')]);
    expect(parseEveryWay('data:no space\n\n').events).toEqual([message('no space')]);
  });

  it('reads a line without a colon as a field with an empty value (format-field-data)', () => {
    expect(parseEveryWay('data:\n\ndata\ndata\n\ndata:test\n\n').events).toEqual([
      message(''),
      message('\n'),
      message('test'),
    ]);
  });

  it('ignores comments, whatever they hold, and reports them (format-comments)', () => {
    const long = 'x'.repeat(2048);
    const input = `data:1\r:\0\n:\r\ndata:2\n:${long}\rdata:3\n:data:fail\r:${long}\ndata:4\n\n`;
    const result = parseEveryWay(input);
    expect(result.events).toEqual([message('1\n2\n3\n4')]);
    expect(result.comments).toEqual(['\0', '', long, 'data:fail', long]);
    expect(parseEveryWay(': keep-alive\n\n').comments).toEqual(['keep-alive']);
  });

  it('ignores unknown fields and matches field names case-sensitively (format-field-unknown, -parsing)', () => {
    expect(
      parseEveryWay('data:test\n data\ndata\nfoobar:xxx\njustsometext\n:thisisacommentyay\ndata:test\n\n')
        .events,
    ).toEqual([message('test\n\ntest')]);
    expect(
      parseEveryWay(
        'data:\0\ndata:  2\rData:1\ndata\0:2\ndata:1\r\n:\0\ndata:3\nda-ta:x\ndata_5:x\ndata\ndata:4\n\n',
      ).events,
    ).toEqual([message('\0\n 2\n1\n3\n\n4')]);
  });

  it('keeps NUL in data (format-null-character)', () => {
    expect(parseEveryWay('data:\0\n\n').events).toEqual([message('\0')]);
  });

  it('sets the event type from "event:", and resets it after each dispatch (format-field-event)', () => {
    expect(parseEveryWay('event:test\ndata:x\n\ndata:y\n\n').events).toEqual([
      message('x', '', 'test'),
      message('y'),
    ]);
  });

  it('dispatches an empty "event:" as "message" (format-field-event-empty)', () => {
    expect(parseEveryWay('event: \ndata:data\n\n').events).toEqual([message('data')]);
  });

  it('resets the event type even when a block dispatches nothing', () => {
    expect(parseEveryWay('event: ghost\n\ndata: x\n\n').events).toEqual([message('x')]);
  });

  it('applies retry only when it is all ASCII digits, in base ten (format-field-retry*)', () => {
    expect(parseEveryWay('retry:03000\ndata:x\n\n').retries).toEqual([3000]);
    expect(
      parseEveryWay('retry:3000\nretry:1000x\nretry: 12\nretry\nretry:\nretry:-1\nretry:1.5\n').retries,
    ).toEqual([3000, 12]);
    expect(parseEveryWay('retry\ndata:test\n\n').events).toEqual([message('test')]);
  });

  it('applies retry immediately, before the block ends', () => {
    const retries: number[] = [];
    const parser = createParser({ onEvent: () => {}, onRetry: (ms) => retries.push(ms) });
    parser.feed('retry: 5000\n');
    expect(retries).toEqual([5000]);
  });

  it('ignores an id that contains NUL (format-field-id-null)', () => {
    for (const id of ['\0\0', 'x\0', '\0x', 'x\0x', ' \0']) {
      const result = parseEveryWay(`id:${id}\ndata:x\n\n`);
      expect(result.events).toEqual([message('x')]);
      expect(result.lastEventId).toBe('');
    }
    expect(parseEveryWay('id:1\n\nid:x\0\ndata:x\n\n').events).toEqual([message('x', '1')]);
  });

  it('keeps the last event ID across events, resets it with an empty id (format-field-id-3)', () => {
    const result = parseEveryWay(
      'id: 1\ndata: a\n\ndata: b\n\nid:\ndata: c\n\nid: 2\ndata: d\n\nid\ndata: e\n\n',
    );
    expect(result.events).toEqual([
      message('a', '1'),
      message('b', '1'),
      message('c', ''),
      message('d', '2'),
      message('e', ''),
    ]);
  });

  it('keeps non-ASCII ids (format-field-id)', () => {
    const result = parseEveryWay('id: \u2026\ndata: x\n\n');
    expect(result.events).toEqual([message('x', '\u2026')]);
    expect(result.lastEventId).toBe('\u2026');
  });

  it('updates the last event ID from a block without data, without dispatching', () => {
    const result = parseEveryWay('id: 42\n\n');
    expect(result.events).toEqual([]);
    expect(result.lastEventId).toBe('42');
  });

  it('dispatches nothing for an empty data buffer', () => {
    expect(parseEveryWay('event: x\n\n\n\n:comment\n\nid: 1\n\n').events).toEqual([]);
  });

  it('removes only the trailing LF of the data buffer (event-data)', () => {
    expect(parseEveryWay('data:msg\ndata:msg\n\ndata:\n\ndata:end\n\n').events).toEqual([
      message('msg\nmsg'),
      message(''),
      message('end'),
    ]);
  });

  it('discards an unterminated event at the end of the stream, id included (format-data-before-final-empty-line)', () => {
    const result = parseEveryWay('retry:1000\ndata:test1\n\nid:test\ndata:test2');
    expect(result.events).toEqual([message('test1')]);
    expect(result.lastEventId).toBe('');
    const withNewline = parseEveryWay('data:test1\n\nid:test\ndata:test2\n');
    expect(withNewline.events).toEqual([message('test1')]);
    expect(withNewline.lastEventId).toBe('');
  });

  it('starts a new stream after end(): BOM dropped again, last event ID kept', () => {
    const events: Array<[string, string]> = [];
    const parser = createParser({ onEvent: (event) => events.push([event.data, event.lastEventId]) });
    parser.feed('\uFEFFid: 7\ndata: one\n\nid: 8\ndata: lost');
    parser.end();
    parser.feed(new TextEncoder().encode('\uFEFFdata: two\n\n'));
    expect(events).toEqual([
      ['one', '7'],
      ['two', '7'],
    ]);
    expect(parser.lastEventId).toBe('7');
  });

  it('reset() discards a pending line, event type and half of a UTF-8 character', () => {
    const events: Array<[string, string]> = [];
    const parser = createParser({ onEvent: (event) => events.push([event.type, event.data]) });
    parser.feed('event: half\ndata: x\r');
    parser.feed(Uint8Array.from([0x64, 0xe2, 0x82]));
    parser.reset();
    parser.feed('\ndata: fresh\n\n');
    expect(events).toEqual([['message', 'fresh']]);
  });

  it('starts from the lastEventId option', () => {
    const events = parseEveryWay('data: x\n\n', { lastEventId: 'resume-9' }).events;
    expect(events).toEqual([message('x', 'resume-9')]);
  });

  it('throws event-too-large past maxEventSize, in a long line or in many data lines, then recovers', () => {
    const parser = createParser({ onEvent: () => {}, maxEventSize: 100 });
    expect(() => {
      for (let i = 0; i < 20; i++) parser.feed('data: 0123456789');
    }).toThrow(ProtocolError);
    const events: string[] = [];
    const lines = createParser({ onEvent: (event) => events.push(event.data), maxEventSize: 100 });
    let error: unknown;
    try {
      for (let i = 0; i < 20; i++) lines.feed('data: 0123456789\n');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).code).toBe('event-too-large');
    lines.feed('data: small\n\n');
    expect(events).toEqual(['small']);
  });

  it('parseAll parses a whole stream', () => {
    expect(parseAll('event: a\ndata: 1\n\ndata: 2\n\ndata: 3')).toEqual([
      message('1', '', 'a'),
      message('2'),
    ]);
  });
});
