export { encode, encodeBytes } from './encode.js';
export { ProtocolError, type ProtocolErrorCode } from './errors.js';
export { createParser, DEFAULT_MAX_EVENT_SIZE, parseAll } from './parse.js';
export type { ParsedEvent, Parser, ParserOptions, SseEvent } from './types.js';
