/** `siar/client`: an EventSource for Node.js and a fetch-based subscribe(). */
export { DEFAULT_RECONNECT_POLICY, type ReconnectPolicy } from './backoff.js';
export { ClientError, type ClientErrorCode, type ClientErrorDetails } from './errors.js';
export {
  EventSource,
  EventSourceErrorEvent,
  type EventSourceEventMap,
  type EventSourceInit,
} from './event-source.js';
export {
  createHttp2Fetch,
  defaultHttp2Pool,
  type Http2Fetch,
  type Http2FetchOptions,
  type Http2RequestInit,
  Http2SessionPool,
  type Http2SessionPoolOptions,
  http2Fetch,
  type TlsOptions,
} from './http2-fetch.js';
export {
  DEFAULT_MAX_QUEUED_EVENTS,
  type RetryInfo,
  type SubscribeOptions,
  Subscription,
  subscribe,
} from './subscribe.js';
export type { Fetch, FetchInit, FetchResponse, HeadersLike, RequestBody } from './types.js';
