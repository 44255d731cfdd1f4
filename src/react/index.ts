/** `siar/react`: React hooks for server-sent events, on siar/client. React 18 or later is a peer dependency. */
export {
  type EventSourceClass,
  EventSourceError,
  type EventSourceLike,
  type EventSourceState,
  type ReadyState,
  type StreamEvent,
  type UseEventSourceOptions,
  useEventSource,
} from './use-event-source.js';
export {
  type SubscribeState,
  type SubscribeStatus,
  type UseSubscribeOptions,
  useSubscribe,
} from './use-subscribe.js';
