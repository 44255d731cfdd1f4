import type { ParsedEvent, ParserOptions } from '../../src/protocol/index.js';
import { createParser } from '../../src/protocol/index.js';

export interface ParseResult {
  events: ParsedEvent[];
  retries: number[];
  comments: string[];
  lastEventId: string;
}

type Chunking = (input: Uint8Array) => Array<string | Uint8Array>;

const encoder = new TextEncoder();

/** A small seeded generator, so a failing random chunking can be replayed. */
export function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomBytes(seed: number): Chunking {
  return (input) => {
    const random = seeded(seed);
    const chunks: Uint8Array[] = [];
    let at = 0;
    while (at < input.length) {
      const size = 1 + Math.floor(random() * 7);
      chunks.push(input.subarray(at, at + size));
      at += size;
    }
    return chunks;
  };
}

function randomText(seed: number): Chunking {
  return (input) => {
    const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(input);
    const random = seeded(seed);
    const chunks: string[] = [];
    let at = 0;
    while (at < text.length) {
      const size = 1 + Math.floor(random() * 5);
      chunks.push(text.slice(at, at + size));
      at += size;
    }
    return chunks;
  };
}

/** Every way a test case is fed: whole, one byte at a time, one character at a time, random splits. */
export const chunkings: Record<string, Chunking> = {
  'whole bytes': (input) => [input],
  'whole text': (input) => [new TextDecoder('utf-8', { ignoreBOM: true }).decode(input)],
  'byte at a time': (input) => Array.from(input, (_, i) => input.subarray(i, i + 1)),
  'char at a time': (input) => Array.from(new TextDecoder('utf-8', { ignoreBOM: true }).decode(input)),
  ...Object.fromEntries([1, 2, 3, 4, 5].map((seed) => [`random bytes #${seed}`, randomBytes(seed)])),
  ...Object.fromEntries([1, 2, 3].map((seed) => [`random text #${seed}`, randomText(seed)])),
};

/** Parses `input` fed as `chunking` says, then ends the stream. */
export function parseWith(
  input: string | Uint8Array,
  chunking: Chunking,
  options: Partial<ParserOptions> = {},
): ParseResult {
  const result: ParseResult = { events: [], retries: [], comments: [], lastEventId: '' };
  const parser = createParser({
    ...options,
    onEvent: (event) => result.events.push(event),
    onRetry: (ms) => result.retries.push(ms),
    onComment: (text) => result.comments.push(text),
  });
  const bytes = typeof input === 'string' ? encoder.encode(input) : input;
  for (const chunk of chunking(bytes)) parser.feed(chunk);
  parser.end();
  result.lastEventId = parser.lastEventId;
  return result;
}

/** Parses `input` in every chunking and checks that they all agree; returns the common result. */
export function parseEveryWay(input: string | Uint8Array, options: Partial<ParserOptions> = {}): ParseResult {
  let first: ParseResult | undefined;
  let firstName = '';
  for (const [name, chunking] of Object.entries(chunkings)) {
    // Text chunkings cannot carry invalid UTF-8; those inputs are checked with byte chunkings only.
    if (input instanceof Uint8Array && name.includes('text')) continue;
    if (input instanceof Uint8Array && name.includes('char')) continue;
    const result = parseWith(input, chunking, options);
    if (first === undefined) {
      first = result;
      firstName = name;
      continue;
    }
    const same = JSON.stringify(result) === JSON.stringify(first);
    if (!same) {
      throw new Error(
        `chunking "${name}" gave ${JSON.stringify(result)} but "${firstName}" gave ${JSON.stringify(first)}`,
      );
    }
  }
  if (first === undefined) throw new Error('no chunking ran');
  return first;
}

export function message(data: string, lastEventId = '', type = 'message'): ParsedEvent {
  return { type, data, lastEventId };
}
