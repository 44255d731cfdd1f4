export { eventStreamHandler } from './adapters/express.js';
export { eventStreamFromReply, type FastifyReplyLike, siarFastify } from './adapters/fastify.js';
export { type HonoContextLike, honoEventStream } from './adapters/hono.js';
export {
  Channel,
  type ChannelOptions,
  createChannel,
  type ReplayResult,
  type StreamFilter,
} from './channel.js';
export { type CorsDecision, type CorsOptions, cors, createCorsPolicy } from './cors.js';
export {
  createEventStream,
  createEventStreamResponse,
  createSocketEventStream,
  type EventStreamResponseOptions,
  eventStreamHeaders,
  type ResponseEventStream,
  readLastEventId,
  type SocketRequestHead,
} from './create.js';
export { ServerError, type ServerErrorCode } from './errors.js';
export {
  DEFAULT_HEARTBEAT_MS,
  DEFAULT_MAX_BUFFERED_BYTES,
  EventStream,
  type EventStreamOptions,
} from './event-stream.js';
export { Frame, HEARTBEAT } from './frame.js';
export { heartbeatTimers } from './heartbeat.js';
export { type Logger, silentLogger, stderrLogger } from './logger.js';
export { type PipeOptions, pipe } from './pipe.js';
export { endForGood, endForGoodResponse, refusalResponse, refuse } from './respond.js';
export { type ServerStats, serverStats } from './stats.js';
