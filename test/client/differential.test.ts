import { EventSource as ReferenceEventSource } from 'eventsource';
import { afterEach, describe, expect, it } from 'vitest';
import { EventSource } from '../../src/client/index.js';
import { parseAll } from '../../src/protocol/index.js';
import { waitFor } from '../helpers/net.js';
import {
  eventStream,
  type ScriptedServer,
  startScriptedServer,
  writeChunks,
} from '../helpers/scripted-server.js';
import { seeded } from '../protocol/chunking.js';

// The npm package `eventsource` is the EventSource most Node.js code uses. Both clients read the
// same scripted bytes from the same server, and must dispatch the same events.

/** Streams that exercise the event stream format, each a rule of the HTML standard. */
const STREAMS: Record<string, string> = {
  'one event': 'data: hello\n\n',
  'named event with id and two data lines': 'event: price\nid: 42\ndata: a\ndata: b\n\n',
  'CRLF, LF and CR line ends': 'data:test\r\ndata\ndata:test\r\r\ndata: cr\r\rdata: lf\n\n',
  'a leading BOM': '\uFEFFdata: 1\n\n\uFEFFdata: 2\n\ndata: 3\n\n',
  'comments, unknown fields and retry': ': comment\nfoo: bar\njustsometext\nretry: 20\n data: x\ndata: y\n\n',
  'an id with NUL is ignored': 'id: ok\ndata: 1\n\nid: a\0b\ndata: 2\n\n',
  'empty data lines': 'data:\n\ndata\ndata\n\ndata:test\n\n',
  'one leading space removed, tabs kept': 'data:\ttest\ndata:  two\ndata:\n\n',
  'the event type resets after each event': 'event: x\ndata: 1\n\ndata: 2\n\nevent:\ndata: 3\n\n',
  'an empty id resets the last event ID': 'id: 1\ndata: a\n\ndata: b\n\nid\ndata: c\n\n',
  'an unterminated event is discarded': 'data: 1\n\nid: 9\ndata: 2',
  'non-ASCII text': 'id: é…\ndata: 😀 ü ß\n\n',
  'NUL in data': 'data: \0\n\n',
  'an event without data is not dispatched': 'event: x\nid: 5\n\ndata: y\n\n',
};

interface Seen {
  type: string;
  data: string;
  lastEventId: string;
  origin: string;
}

/** The event-dispatching surface both EventSources share. */
interface AnyEventSource {
  addEventListener(type: string, listener: (event: MessageEvent) => void): void;
  close(): void;
}

const servers: ScriptedServer[] = [];
const sources: AnyEventSource[] = [];

afterEach(async () => {
  for (const source of sources.splice(0)) source.close();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

/** Collects what `source` dispatches until its first error (the end of the stream), then closes it. */
function collect(source: AnyEventSource, types: string[]): Promise<Seen[]> {
  sources.push(source);
  const seen: Seen[] = [];
  for (const type of types) {
    source.addEventListener(type, ({ type, data, lastEventId, origin }) => {
      seen.push({ type, data, lastEventId, origin });
    });
  }
  return new Promise((resolve) =>
    source.addEventListener('error', () => {
      source.close();
      resolve(seen);
    }),
  );
}

/** Cuts `bytes` into pieces of 1 to 6 bytes, the same way for a given seed. */
function randomChunks(bytes: Uint8Array, seed: number): Uint8Array[] {
  const random = seeded(seed);
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; ) {
    const size = 1 + Math.floor(random() * 6);
    chunks.push(bytes.subarray(at, at + size));
    at += size;
  }
  return chunks;
}

async function bothSee(chunks: Uint8Array[], gapMs: number) {
  const server = await startScriptedServer(async (_request, res) => {
    eventStream(res);
    await writeChunks(res, chunks, gapMs);
    res.end();
  });
  servers.push(server);
  const whole = Buffer.concat(chunks);
  const types = [...new Set(['message', ...parseAll(whole).map((event) => event.type)])];
  const [siar, reference] = await Promise.all([
    collect(new EventSource(server.origin), types),
    collect(new ReferenceEventSource(server.origin) as unknown as AnyEventSource, types),
  ]);
  return { siar, reference, expected: parseAll(whole) };
}

describe('EventSource and the eventsource package see the same events', () => {
  for (const [name, text] of Object.entries(STREAMS)) {
    it(`${name}: whole, and in small random chunks`, async () => {
      const bytes = new TextEncoder().encode(text);
      for (const chunks of [[bytes], randomChunks(bytes, text.length)]) {
        const { siar, reference, expected } = await bothSee(chunks, chunks.length === 1 ? 0 : 3);
        expect(siar).toEqual(reference);
        expect(siar.map(({ type, data, lastEventId }) => ({ type, data, lastEventId }))).toEqual(expected);
      }
    });
  }

  it('where they differ, Siar follows the standard: only the first BOM is dropped (format-bom-2)', async () => {
    // eventsource 5.1.5 decodes with a BOM-stripping TextDecoder and its parser strips one more, so it
    // also drops the second BOM and dispatches "1"; browsers (WPT format-bom-2) and Siar do not.
    const bytes = new TextEncoder().encode('\uFEFF\uFEFFdata: 1\n\ndata: 2\n\ndata: 3\n\n');
    const { siar, expected } = await bothSee([bytes], 0);
    expect(siar.map((event) => event.data)).toEqual(['2', '3']);
    expect(expected.map((event) => event.data)).toEqual(['2', '3']);
  });

  it('both reconnect to the same URL with the same Last-Event-ID', async () => {
    const server = await startScriptedServer((request, res) => {
      eventStream(res);
      res.end(request.lastEventId === undefined ? 'retry: 20\nid: é…1\ndata: a\n\n' : '');
    });
    servers.push(server);
    const siar = new EventSource(`${server.origin}/siar`);
    const reference = new ReferenceEventSource(`${server.origin}/reference`);
    sources.push(siar, reference as unknown as AnyEventSource);
    await waitFor(() => server.requests.length >= 4, 5000, 'both clients to reconnect');
    siar.close();
    reference.close();
    const byPath = (path: string) =>
      server.requests
        .filter((request) => request.url === path)
        .slice(0, 2)
        .map((request) => [request.headers.accept, request.lastEventId]);
    expect(byPath('/siar')).toEqual([
      ['text/event-stream', undefined],
      ['text/event-stream', 'é…1'],
    ]);
    expect(byPath('/siar')).toEqual(byPath('/reference'));
  });
});
