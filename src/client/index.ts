/** `siar/client`: an EventSource for Node.js and a fetch-based subscribe(). */
export { DEFAULT_RECONNECT_POLICY, type ReconnectPolicy } from './backoff.js';
export { ClientError, type ClientErrorCode, type ClientErrorDetails } from './errors.js';
export { DEFAULT_MAX_QUEUED_EVENTS } from './event-queue.js';
export {
  EventSource,
  EventSourceErrorEvent,
  type EventSourceEventMap,
  type EventSourceInit,
} from './event-source.js';
export {
  createHttp2Fetch,
  type Http2Fetch,
  type Http2FetchOptions,
  type Http2RequestInit,
  http2Fetch,
} from './http2/fetch.js';
export { defaultHttp2Pool, Http2SessionPool, type Http2SessionPoolOptions } from './http2/session-pool.js';
export type { TlsOptions } from './http2/tls.js';
export type { RetryInfo } from './reconnection.js';
export { type SubscribeOptions, Subscription, subscribe } from './subscribe.js';
export type { Fetch, FetchInit, FetchResponse, HeadersLike, RequestBody } from './types.js';
