/**
 * Protocol benchmark: Siar's parser and encoder side by side with eventsource-parser and
 * eventsource-encoder on the same inputs, in one process, alternating, medians of several rounds.
 *
 *   npm run bench:protocol [-- --quick]
 */
import { encode as peerEncode } from 'eventsource-encoder';
import { createParser as peerCreateParser } from 'eventsource-parser';
import { encode, createParser as siarCreateParser } from '../../src/protocol/index.js';

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 3 : 5;
const textEncoder = new TextEncoder();

interface Input {
  name: string;
  chunks: string[];
  bytes: Uint8Array[];
  totalBytes: number;
  events: number;
}

function chunked(stream: string, size: number, events: number, name: string): Input {
  const chunks: string[] = [];
  for (let at = 0; at < stream.length; at += size) chunks.push(stream.slice(at, at + size));
  const bytes = chunks.map((chunk) => textEncoder.encode(chunk));
  return { name, chunks, bytes, totalBytes: textEncoder.encode(stream).length, events };
}

function smallEvents(): Input {
  let stream = '';
  const count = quick ? 50_000 : 200_000;
  for (let i = 0; i < count; i++) {
    stream += `id: ${i}\ndata: {"topic":"/books/${i % 100}","price":${i * 3},"ok":true}\n\n`;
  }
  return chunked(stream, 16 * 1024, count, 'small events (16 KiB chunks)');
}

function largeEvents(): Input {
  let stream = '';
  const count = quick ? 1_000 : 4_000;
  const line = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor!!';
  for (let i = 0; i < count; i++) {
    stream += `event: report\nid: ${i}\n`;
    for (let l = 0; l < 50; l++) stream += `data: ${line}\n`;
    stream += '\n';
  }
  return chunked(stream, 64 * 1024, count, 'large multi-line events (50 x 80 B)');
}

function byteAtATime(): Input {
  let stream = '';
  const count = quick ? 5_000 : 20_000;
  for (let i = 0; i < count; i++) stream += `id: ${i}\nevent: tick\ndata: ${i * 7}\r\n\r\n`;
  return chunked(stream, 1, count, 'byte at a time');
}

type ParseRun = (input: Input) => number;

function siarText(input: Input): number {
  let n = 0;
  const parser = siarCreateParser({ onEvent: () => n++ });
  for (const chunk of input.chunks) parser.feed(chunk);
  return n;
}

function siarBytes(input: Input): number {
  let n = 0;
  const parser = siarCreateParser({ onEvent: () => n++ });
  for (const chunk of input.bytes) parser.feed(chunk);
  return n;
}

function peerText(input: Input): number {
  let n = 0;
  const parser = peerCreateParser({ onEvent: () => n++ });
  for (const chunk of input.chunks) parser.feed(chunk);
  return n;
}

/** eventsource-parser takes text only; the `eventsource` package decodes with a streaming TextDecoder. */
function peerBytes(input: Input): number {
  let n = 0;
  const parser = peerCreateParser({ onEvent: () => n++ });
  const decoder = new TextDecoder();
  for (const chunk of input.bytes) parser.feed(decoder.decode(chunk, { stream: true }));
  return n;
}

/** Pairs of runs compared with each other: Siar first, the peer second. */
const pairs: Array<{ feed: string; siar: ParseRun; peer: ParseRun }> = [
  { feed: 'text', siar: siarText, peer: peerText },
  { feed: 'bytes (UTF-8 decoding included)', siar: siarBytes, peer: peerBytes },
];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function timeMs(fn: () => void): number {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function rateOf(input: Input, run: ParseRun): number[] {
  const rates: number[] = [];
  for (let round = 0; round < ROUNDS + 1; round++) {
    let events = 0;
    const ms = timeMs(() => {
      events = run(input);
    });
    if (events !== input.events)
      throw new Error(`${run.name} parsed ${events} events, expected ${input.events}`);
    if (round > 0) rates.push(input.totalBytes / 1e6 / (ms / 1000)); // round 0 warms up
  }
  return rates;
}

function benchParse(): string[] {
  const rows: string[] = [
    '| input | fed as | Siar MB/s | eventsource-parser MB/s | ratio |',
    '|---|---|---:|---:|---:|',
  ];
  for (const input of [smallEvents(), largeEvents(), byteAtATime()]) {
    for (const pair of pairs) {
      // Interleave the two so that drift in machine load hits both alike.
      const siar: number[] = [];
      const peer: number[] = [];
      for (let repeat = 0; repeat < 3; repeat++) {
        siar.push(...rateOf(input, pair.siar));
        peer.push(...rateOf(input, pair.peer));
      }
      const a = median(siar);
      const b = median(peer);
      rows.push(
        `| ${input.name} | ${pair.feed} | ${a.toFixed(1)} | ${b.toFixed(1)} | ${(a / b).toFixed(2)}x |`,
      );
    }
  }
  return rows;
}

function benchEncode(): string[] {
  const count = quick ? 100_000 : 400_000;
  const events = Array.from({ length: 1000 }, (_, i) => ({
    id: String(i),
    event: 'update',
    data: i % 10 === 0 ? `line one ${i}\nline two\nline three` : `{"topic":"/books/${i}","price":${i}}`,
  }));
  const encoders: Record<string, () => number> = {
    siar: () => {
      let length = 0;
      for (let i = 0; i < count; i++) length += encode(events[i % 1000] as (typeof events)[number]).length;
      return length;
    },
    'eventsource-encoder': () => {
      let length = 0;
      for (let i = 0; i < count; i++)
        length += peerEncode(events[i % 1000] as (typeof events)[number]).length;
      return length;
    },
  };
  const times: Record<string, number[]> = { siar: [], 'eventsource-encoder': [] };
  for (let round = 0; round < ROUNDS + 1; round++) {
    for (const [name, run] of Object.entries(encoders)) {
      const ms = timeMs(run);
      if (round > 0) times[name]?.push(ms);
    }
  }
  const rows = ['| encoder | events/s | ratio to eventsource-encoder |', '|---|---:|---:|'];
  const peer = count / (median(times['eventsource-encoder'] ?? []) / 1000);
  for (const name of Object.keys(encoders)) {
    const rate = count / (median(times[name] ?? []) / 1000);
    rows.push(`| ${name} | ${Math.round(rate).toLocaleString('en-US')} | ${(rate / peer).toFixed(2)}x |`);
  }
  return rows;
}

console.log(`Node ${process.version}, ${ROUNDS} rounds, medians\n`);
console.log('Parse throughput\n');
console.log(benchParse().join('\n'));
console.log('\nEncode throughput\n');
console.log(benchEncode().join('\n'));
