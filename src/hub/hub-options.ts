import { type IntegerRange, integerOption } from '../server/errors.js';
import { DEFAULT_HEARTBEAT_MS, DEFAULT_MAX_BUFFERED_BYTES } from '../server/event-stream.js';
import { type Logger, silentLogger, stderrLogger } from '../server/logger.js';
import { descriptorBudget, subscriberCapacity } from './capacity.js';
import type { HubGroup } from './cluster/hub-group.js';
import { HubError } from './errors.js';
import type { JwtKeyOptions } from './oauth/key-source.js';
import type { UpdateLimits } from './publish.js';
import { DEFAULT_STORE_TIMEOUT_MS, type HubStore } from './stores/store.js';

/** Options of {@link createHub}. Every limit has a default, a named constant of this file. */
export interface HubOptions {
  /** Key checking publishers' tokens. Without it nobody can publish over HTTP. */
  publisherJwt?: JwtKeyOptions;
  /** Key checking subscribers' tokens. Default: the publisher key. */
  subscriberJwt?: JwtKeyOptions;
  /**
   * The issuer of draft-08 access tokens (their `iss`, compared exactly) whose tokens the keys above
   * verify, and those of `jwksUrl`. Without it the hub takes draft-07 tokens only.
   */
  issuer?: string;
  /**
   * Where the issuer's JSON Web Key Set is (`https:`, `http:` or `file:`): its public keys verify the
   * issuer's access tokens beside the keys above. Loaded before the hub is ready, kept 10 minutes,
   * loaded again when a token names a key it lacks. Needs `issuer`.
   */
  jwksUrl?: string;
  /**
   * The hub's resource identifier: what access tokens must hold in `aud`, and the `resource` of its
   * metadata. Default: the hub's URL as each request reached it (`https://host/.well-known/mercure`).
   */
  resourceIdentifier?: string;
  /**
   * Speak draft-07 beside draft-08 (Mercure 1.0): `topic` selectors, tokens with a `mercure` claim,
   * the `authorization` query parameter, the `mercureAuthorization` cookie, `lastEventID`. Default
   * true; false leaves draft-08 alone.
   */
  draft07?: boolean;
  /** Let subscribers without a token in (they get public updates only). Default false. */
  anonymous?: boolean;
  /**
   * Origins allowed to call the hub from a browser (CORS). An explicit list allows credentials
   * (the cookie); `*` allows any origin without credentials. Default: none (same origin only).
   */
  corsOrigins?: readonly string[] | '*';
  /** Origins allowed to publish with the cookie alone (CSRF protection). Default: none. */
  publishOrigins?: readonly string[] | '*';
  /** Name of the cookie holding a draft-07 token. Default `mercureAuthorization` (draft-08's is `__Secure-mercure_access_token`). */
  cookieName?: string;
  /** The store. Default: a memory store keeping `historySize` updates. */
  store?: HubStore | undefined;
  /** History of the default memory store. Default 10,000 updates. */
  historySize?: number;
  /**
   * Longest the hub waits for its store on any call (a publish, a replay, a listing), in ms; past
   * it the request gets 503 with `Retry-After`. Give a store of your own the same bound (its own
   * `storeTimeoutMs`): it then rides a reconnection through within it. Default 5,000.
   */
  storeTimeoutMs?: number;
  /** Publish subscription events and serve the subscriptions API. Default false. */
  subscriptions?: boolean;
  /** Heartbeat interval in ms; 0 turns heartbeats off. Default 15,000. */
  heartbeatMs?: number;
  /** Longest a subscription stays open, in ms (the client then reconnects); 0: no limit. Default 0. */
  writeTimeoutMs?: number;
  /** Bytes a subscriber may leave unread before it is dropped (it reconnects and replays). Default 1 MiB. */
  maxBufferedBytes?: number;
  /** Largest publish request body and update data, in bytes. Default 1 MiB. */
  maxUpdateBytes?: number;
  /** Most topics in one update, and most `topic` parameters in one subscription. Default 100. */
  maxTopics?: number;
  /** Longest topic or selector, in characters. Default 2,048. */
  maxTopicLength?: number;
  /**
   * Most subscribers at once; more get 503 with Retry-After. Default 50,000. Never more than the
   * process's descriptor limit can hold, after a reserve for publishers and the rest (capacity.ts):
   * a larger value is lowered to that, with a warning.
   */
  maxSubscribers?: number;
  /** Most subscribers from one client address; more get 429 with Retry-After. Default 10,000. */
  maxSubscribersPerAddress?: number;
  /** Most updates held for one subscriber while its history is replayed. Default 10,000. */
  maxPendingUpdates?: number;
  /** Longest a publish body may take to arrive, in ms (then 408). Default 60,000. */
  bodyTimeoutMs?: number;
  /** Longest accepted token, in bytes. Default 16 KiB. */
  maxTokenBytes?: number;
  /** Clock skew allowed when checking `exp` and `nbf`, in seconds. Default 0. */
  clockToleranceSeconds?: number;
  /** Take the client address from `X-Forwarded-For` (behind a trusted proxy). Default false. */
  trustProxy?: boolean;
  /** Serve the demo page at `/`. Tokens given here are offered to the page (development only). */
  demo?: boolean | DemoTokens;
  /**
   * Serve the live dashboard at `/dashboard`, and send its figures once a second on
   * `/.well-known/mercure/dashboard` (private, never stored) while someone watches. The page is
   * public; its figures need a subscriber token whose `mercure.subscribe` claim matches that topic.
   * Default true.
   */
  dashboard?: boolean;
  /** Serve `/metrics` (Prometheus) and `/healthz`. Default true. */
  metrics?: boolean;
  /** `retry:` sent to subscribers when the hub shuts down, in ms. Default 2,000. */
  shutdownRetryMs?: number;
  /** Where log lines go. Default: warnings on stderr. */
  logger?: Logger;
  /**
   * The processes this hub serves as one with, when it is one of several (`joinHubPrimary()` in a
   * node:cluster worker gives it): subscribers are then admitted against the whole hub's limits, and
   * `/healthz`, `/metrics` and the dashboard speak for the whole hub. Default: none, this process is the hub.
   */
  group?: HubGroup;
}

/** Tokens the demo page offers its visitor (development only). */
export interface DemoTokens {
  publisherToken?: string;
  subscriberToken?: string;
}

/** Default name of the cookie holding the token, as the protocol names it. */
export const DEFAULT_COOKIE_NAME = 'mercureAuthorization';
/** Default largest publish body and update data: 1 MiB. */
export const DEFAULT_MAX_UPDATE_BYTES = 1024 * 1024;
/** Default most topics of one update, and most selectors of one subscription. */
export const DEFAULT_MAX_TOPICS = 100;
/** Default longest topic or selector, in characters. */
export const DEFAULT_MAX_TOPIC_LENGTH = 2048;
/** Default most subscribers of one hub at once. */
export const DEFAULT_MAX_SUBSCRIBERS = 50_000;
/** Default most subscribers from one client address at once. */
export const DEFAULT_MAX_SUBSCRIBERS_PER_ADDRESS = 10_000;
/** Default most updates held for one subscriber while its history is replayed. */
export const DEFAULT_MAX_PENDING_UPDATES = 10_000;
/** Default longest a publish body may take to arrive, whatever the protocol: 60 s. */
export const DEFAULT_BODY_TIMEOUT_MS = 60_000;
/** Default bound on a token's size; longer ones are refused before any cryptography. */
export const DEFAULT_MAX_TOKEN_BYTES = 16 * 1024;
/** Default clock skew allowed when checking a token's `exp` and `nbf`, in seconds. */
export const DEFAULT_CLOCK_TOLERANCE_SECONDS = 0;
/** Default longest a subscription stays open: no limit (0). */
export const DEFAULT_WRITE_TIMEOUT_MS = 0;
/** Default `retry:` sent to subscribers when the hub shuts down, in ms. */
export const DEFAULT_SHUTDOWN_RETRY_MS = 2000;
/** Default time `close()` waits for publishes in flight, in ms. */
export const DEFAULT_CLOSE_GRACE_MS = 5000;

/** The options that take a number. */
type NumericOption = {
  [K in keyof HubOptions]-?: NonNullable<HubOptions[K]> extends number ? K : never;
}[keyof HubOptions];

/** The options of a hub with every default filled in and every number checked. */
export interface HubSettings {
  readonly draft07: boolean;
  /** The configured resource identifier; undefined: each request's hub URL. */
  readonly resourceIdentifier: string | undefined;
  /**
   * The authorization servers the metadata names: the issuer, when its keys come from a key set (an
   * authorization server's); none when the issuer's tokens are signed with the hub's own keys.
   */
  readonly authorizationServers: readonly string[];
  readonly anonymous: boolean;
  readonly corsOrigins: readonly string[] | '*' | undefined;
  readonly publishOrigins: readonly string[] | '*';
  readonly cookieName: string;
  readonly subscriptions: boolean;
  readonly heartbeatMs: number;
  readonly writeTimeoutMs: number;
  readonly maxBufferedBytes: number;
  /** The limits of every update, from HTTP and from `hub.publish` alike. */
  readonly limits: UpdateLimits;
  readonly maxSubscribers: number;
  readonly maxSubscribersPerAddress: number;
  readonly maxPendingUpdates: number;
  readonly bodyTimeoutMs: number;
  readonly storeTimeoutMs: number;
  readonly maxTokenBytes: number;
  readonly clockToleranceSeconds: number;
  readonly trustProxy: boolean;
  readonly demo: true | DemoTokens | undefined;
  readonly dashboard: boolean;
  readonly metrics: boolean;
  readonly shutdownRetryMs: number;
  readonly logger: Logger;
  readonly group: HubGroup | undefined;
}

/** `integerOption` reporting with the hub's error class: a `HubError` with code `invalid-option`. */
export function hubIntegerOption(
  name: string,
  value: number | undefined,
  fallback: number,
  range: Omit<IntegerRange, 'invalid'> = {},
): number {
  return integerOption(name, value, fallback, {
    ...range,
    invalid: (message) => new HubError('invalid-option', message),
  });
}

/** Fills in the defaults of `options` and checks its numbers; throws a `HubError` (`invalid-option`). */
export function resolveHubOptions(options: HubOptions): HubSettings {
  const int = (name: NumericOption, fallback: number) => hubIntegerOption(name, options[name], fallback);
  const logger = options.logger ?? stderrLogger;
  const { resourceIdentifier } = options;
  if (resourceIdentifier !== undefined && !URL.canParse(resourceIdentifier)) {
    throw new HubError(
      'invalid-option',
      `resourceIdentifier "${resourceIdentifier}" is not a URL: it is the hub's URL as its clients know it, such as https://hub.example.com/.well-known/mercure.`,
    );
  }
  return {
    draft07: options.draft07 ?? true,
    resourceIdentifier,
    authorizationServers:
      options.issuer !== undefined && options.jwksUrl !== undefined ? [options.issuer] : [],
    anonymous: options.anonymous ?? false,
    corsOrigins: options.corsOrigins,
    publishOrigins: options.publishOrigins ?? [],
    cookieName: options.cookieName ?? DEFAULT_COOKIE_NAME,
    subscriptions: options.subscriptions ?? false,
    heartbeatMs: int('heartbeatMs', DEFAULT_HEARTBEAT_MS),
    writeTimeoutMs: int('writeTimeoutMs', DEFAULT_WRITE_TIMEOUT_MS),
    maxBufferedBytes: int('maxBufferedBytes', DEFAULT_MAX_BUFFERED_BYTES),
    limits: {
      maxUpdateBytes: int('maxUpdateBytes', DEFAULT_MAX_UPDATE_BYTES),
      maxTopics: int('maxTopics', DEFAULT_MAX_TOPICS),
      maxTopicLength: int('maxTopicLength', DEFAULT_MAX_TOPIC_LENGTH),
    },
    maxSubscribers: subscriberCapacity(
      int('maxSubscribers', DEFAULT_MAX_SUBSCRIBERS),
      options.maxSubscribers !== undefined,
      descriptorBudget(),
      // In a group the whole hub's maxSubscribers is given to each process, and the primary admits
      // against each one's capacity (join.ts): a warning from each would name the whole hub's figure.
      options.group === undefined ? logger : silentLogger,
    ),
    maxSubscribersPerAddress: int('maxSubscribersPerAddress', DEFAULT_MAX_SUBSCRIBERS_PER_ADDRESS),
    maxPendingUpdates: int('maxPendingUpdates', DEFAULT_MAX_PENDING_UPDATES),
    bodyTimeoutMs: int('bodyTimeoutMs', DEFAULT_BODY_TIMEOUT_MS),
    storeTimeoutMs: hubIntegerOption('storeTimeoutMs', options.storeTimeoutMs, DEFAULT_STORE_TIMEOUT_MS, {
      min: 1,
    }),
    maxTokenBytes: int('maxTokenBytes', DEFAULT_MAX_TOKEN_BYTES),
    clockToleranceSeconds: int('clockToleranceSeconds', DEFAULT_CLOCK_TOLERANCE_SECONDS),
    trustProxy: options.trustProxy ?? false,
    demo: options.demo === true ? true : options.demo || undefined,
    dashboard: options.dashboard ?? true,
    metrics: options.metrics ?? true,
    shutdownRetryMs: int('shutdownRetryMs', DEFAULT_SHUTDOWN_RETRY_MS),
    logger,
    group: options.group,
  };
}
