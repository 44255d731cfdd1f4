export type { HubGroup } from './cluster/hub-group.js';
export { type HubWorker, type JoinOptions, joinHubPrimary } from './cluster/join.js';
export { HubPrimary, type HubPrimaryOptions } from './cluster/primary.js';
export { HubError, type HubErrorCode } from './errors.js';
export { siarHubFastify } from './fastify.js';
export type { HubStats } from './health.js';
export { createHub, type Hub } from './hub.js';
export type { HubOptions } from './hub-options.js';
export {
  closeHubServer,
  createHubServer,
  DEFAULT_MAX_CONCURRENT_STREAMS,
  type HubServer,
  type HubServerOptions,
} from './hub-server.js';
export { matchSubscriptionTopic } from './match-subscriptions.js';
export { JWT_ALGORITHMS, type JwtAlgorithm, type JwtKeyOptions } from './oauth/key-source.js';
export { ACCESS_TOKEN_COOKIE } from './oauth/presented-token.js';
export { HUB_PATH, SUBSCRIPTIONS_PATH } from './paths.js';
export { RESOURCE_METADATA_PATH } from './resource-metadata.js';
export { DEFAULT_MEMORY_HISTORY, MemoryStore, type MemoryStoreOptions } from './stores/memory.js';
export {
  DEFAULT_STORE_TIMEOUT_MS,
  type Dispatch,
  type HubStore,
  type ReplayResult,
  type StoreFaults,
  type StoreHealth,
} from './stores/store.js';
export { subscriptionTopic } from './subscriptions.js';
export type { Grants } from './token-formats/token-format.js';
export {
  type AccessTokenGrants,
  type AuthorizationCookieOptions,
  authorizationCookie,
  type CreateAccessTokenOptions,
  type CreateTokenOptions,
  createAccessToken,
  createToken,
  type DiscoveryLinkOptions,
  discoveryLink,
  type GrantMatcher,
  type MercureClaim,
} from './tokens.js';
export type { MatchType } from './topic-selector.js';
export type { StoredUpdate, Update, UpdateInit } from './update.js';
