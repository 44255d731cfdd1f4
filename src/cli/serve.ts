// Past 400 lines: `siar serve`'s flag table (one entry per flag: its name, environment variables,
// default and help) is most of it, kept beside the command it describes; the hub's start-up is in
// serve-hub.ts and serve-workers.ts.
import cluster from 'node:cluster';
import { randomBytes } from 'node:crypto';
import { DASHBOARD_TOPIC } from '../hub/dashboard-figures.js';
import type { HubServerOptions } from '../hub/hub-server.js';
import {
  createAccessToken,
  createToken,
  DEFAULT_MEMORY_HISTORY,
  DEFAULT_STORE_TIMEOUT_MS,
  type HubOptions,
  type HubStore,
  JWT_ALGORITHMS,
} from '../hub/index.js';
import { openStore, StoreSpecError } from '../hub/stores/open.js';
import { DEFAULT_HEARTBEAT_MS, DEFAULT_MAX_BUFFERED_BYTES, stderrLogger } from '../server/index.js';
import { defineCommand } from './command.js';
import { defineFlags, type FlagValues, flagMistake } from './flags.js';
import { type Serving, SHUTDOWN_BOUND_MS, startHub, stopHub } from './serve-hub.js';
import { listeningOptions, TLS_FLAGS } from './serve-tls.js';
import { serveAsWorker, serveWorkers, workerCount } from './serve-workers.js';
import { styleFor } from './style.js';
import { UsageError } from './usage-error.js';

/** Where a hub that made its own development key listens unless --host says otherwise: this machine only. */
const DEVELOPMENT_HOST = '127.0.0.1';
/** The issuer of the access tokens a hub with a development key makes, unless --issuer names one. */
const DEVELOPMENT_ISSUER = 'urn:siar:development';
/** Lifetime of the access token a hub with a development key prints (access tokens must expire). */
const DEVELOPMENT_ACCESS_TOKEN_LIFETIME = '12h';

const FLAGS = defineFlags({
  port: {
    kind: 'integer',
    short: 'p',
    value: '<port>',
    env: ['SIAR_PORT', 'PORT'],
    default: 3000,
    help: 'port to listen on',
  },
  host: {
    kind: 'string',
    value: '<host>',
    env: ['SIAR_HOST'],
    defaultText: `all (${DEVELOPMENT_HOST} with a development key)`,
    help: 'address to listen on',
  },
  'publisher-jwt-key': {
    kind: 'key',
    value: '<key>',
    env: ['SIAR_PUBLISHER_JWT_KEY', 'MERCURE_PUBLISHER_JWT_KEY'],
    defaultText: 'a development key',
    help: "key checking publishers' tokens; @file reads a file",
  },
  'subscriber-jwt-key': {
    kind: 'key',
    value: '<key>',
    env: ['SIAR_SUBSCRIBER_JWT_KEY', 'MERCURE_SUBSCRIBER_JWT_KEY'],
    defaultText: 'the publisher key',
    help: "key checking subscribers' tokens; @file reads a file",
  },
  'jwt-algorithm': {
    kind: 'string',
    value: '<alg>',
    env: ['SIAR_JWT_ALGORITHM', 'MERCURE_PUBLISHER_JWT_ALG'],
    choices: JWT_ALGORITHMS,
    default: 'HS256',
    help: JWT_ALGORITHMS.join(', '),
  },
  'subscriber-jwt-algorithm': {
    kind: 'string',
    envOnly: true,
    value: '<alg>',
    env: ['MERCURE_SUBSCRIBER_JWT_ALG'],
    choices: JWT_ALGORITHMS,
    defaultText: '--jwt-algorithm',
    help: "the subscriber key's algorithm, when it is not the publisher key's",
  },
  issuer: {
    kind: 'string',
    value: '<iss>',
    env: ['SIAR_ISSUER'],
    defaultText: `none (${DEVELOPMENT_ISSUER} with a development key)`,
    help: 'the issuer (iss) of access tokens (draft-08) that the keys above verify',
  },
  'jwks-url': {
    kind: 'string',
    value: '<url>',
    env: ['SIAR_JWKS_URL'],
    help: "the issuer's JSON Web Key Set (https:, http: or file:): its keys verify its access tokens too",
  },
  'resource-identifier': {
    kind: 'string',
    value: '<url>',
    env: ['SIAR_RESOURCE_IDENTIFIER'],
    defaultText: "the hub's URL, as each request reaches it",
    help: "the aud access tokens must hold, and the resource of the hub's metadata",
  },
  'draft-07': {
    kind: 'boolean',
    default: true,
    env: ['SIAR_DRAFT_07'],
    help: 'speak draft-08 (Mercure 1.0) alone: no topic selectors, no draft-07 tokens, no token in the URL',
  },
  anonymous: {
    kind: 'boolean',
    env: ['SIAR_ANONYMOUS'],
    help: 'let subscribers without a token in (public updates)',
  },
  'cors-origin': {
    kind: 'list',
    value: '<origin>',
    env: ['SIAR_CORS_ORIGINS'],
    help: 'allow this browser origin, with credentials (repeatable; * for any, without credentials)',
  },
  'publish-origin': {
    kind: 'list',
    value: '<origin>',
    env: ['SIAR_PUBLISH_ORIGINS'],
    help: 'allow publishing with the cookie from this origin (repeatable)',
  },
  store: {
    kind: 'string',
    value: '<store>',
    env: ['SIAR_STORE'],
    default: 'memory',
    help: 'memory; sqlite:<path> (durable); for many nodes: redis[s]://[:password@]host:port[/db][?prefix=<prefix>], postgres://user[:password]@host:port/db[?prefix=<prefix>], nats://host:port[?prefix=<prefix>]',
  },
  'redis-cluster': {
    kind: 'boolean',
    envOnly: true,
    env: ['SIAR_REDIS_CLUSTER'],
    help: 'with a redis:// or rediss:// --store: talk to a Redis Cluster rather than one server',
  },
  'store-timeout': {
    kind: 'integer',
    value: '<ms>',
    env: ['SIAR_STORE_TIMEOUT'],
    defaultText: String(DEFAULT_STORE_TIMEOUT_MS),
    help: 'longest a publish waits for the store (riding a reconnection through), then 503',
  },
  'history-size': {
    kind: 'integer',
    value: '<n>',
    env: ['SIAR_HISTORY_SIZE'],
    defaultText: `${DEFAULT_MEMORY_HISTORY} (sqlite 100000)`,
    help: 'updates kept for replay',
  },
  subscriptions: {
    kind: 'boolean',
    env: ['SIAR_SUBSCRIPTIONS'],
    help: 'publish subscription events, serve the subscriptions API',
  },
  heartbeat: {
    kind: 'integer',
    value: '<ms>',
    env: ['SIAR_HEARTBEAT'],
    defaultText: String(DEFAULT_HEARTBEAT_MS),
    help: 'heartbeat interval, 0 for none',
  },
  'max-subscribers': {
    kind: 'integer',
    value: '<n>',
    env: ['SIAR_MAX_SUBSCRIBERS'],
    defaultText: '50000',
    help: 'subscribers at once (of the whole hub, whatever the --workers)',
  },
  workers: {
    kind: 'string',
    value: '<n|auto>',
    env: ['SIAR_WORKERS'],
    default: '1',
    help: 'processes serving as one hub on the one port (one history, limits and figures); auto: one per core',
  },
  'max-buffered-bytes': {
    kind: 'integer',
    value: '<n>',
    env: ['SIAR_MAX_BUFFERED_BYTES'],
    defaultText: String(DEFAULT_MAX_BUFFERED_BYTES),
    help: 'bytes a subscriber may leave unread before it is dropped (it comes back with Last-Event-ID)',
  },
  demo: { kind: 'boolean', env: ['SIAR_DEMO'], help: 'serve the demo page at /' },
  dashboard: {
    kind: 'boolean',
    default: true,
    env: ['SIAR_DASHBOARD'],
    help: 'do not serve the live dashboard at /dashboard nor send its figures',
  },
  ...TLS_FLAGS,
});

function origins(values: string[] | undefined): readonly string[] | '*' | undefined {
  if (values === undefined) return undefined;
  return values.includes('*') ? '*' : values;
}

/**
 * Opens the store named: a specification's mistake is a usage error, a store that cannot open
 * (a directory that is not there) an error that says which.
 */
async function openStoreFlag(
  spec: string,
  options: { historySize: number | undefined; redisCluster: boolean; storeTimeoutMs: number | undefined },
): Promise<HubStore | undefined> {
  try {
    return await openStore(spec, options);
  } catch (error) {
    if (error instanceof StoreSpecError) throw flagMistake('serve', error.message);
    throw new UsageError(`Cannot open the store ${spec}: ${(error as Error).message}`, 1);
  }
}

/** What the first lines on stderr say of a development key, its tokens and where the hub listens. */
function developmentNotice(key: string, publisherToken: string, subscriberToken: string, hostGiven: boolean) {
  return (
    'no JWT key is set, so the hub made a development key for this run only:\n' +
    `  key (HS256):       ${key}\n` +
    `  publisher token:   ${publisherToken}\n` +
    `  subscriber token:  ${subscriberToken}\n` +
    (hostGiven
      ? ''
      : `It listens on ${DEVELOPMENT_HOST} only, since anyone who can reach it could use that key: --host 0.0.0.0\n` +
        '(or SIAR_HOST=0.0.0.0) listens on every address.\n') +
    'Set --publisher-jwt-key (or SIAR_PUBLISHER_JWT_KEY) to a secret of your own for real use.'
  );
}

async function run(values: FlagValues<typeof FLAGS>): Promise<number> {
  // A worker of `--workers` is told what to serve by its primary, which checked the options.
  if (cluster.isWorker) return serveAsWorker();
  const workers = workerCount(values.workers);
  const { port, demo, dashboard, 'jwt-algorithm': algorithm } = values;
  const subscriberKey = values['subscriber-jwt-key'];
  const development =
    values['publisher-jwt-key'] === undefined &&
    subscriberKey === undefined &&
    values['jwks-url'] === undefined;
  const issuer = values.issuer ?? (development ? DEVELOPMENT_ISSUER : undefined);
  const host = values.host ?? (development ? DEVELOPMENT_HOST : undefined);
  const listening = listeningOptions(values);
  // The store last, once every other option is known good: nothing is printed before every option is checked.
  const store = await openStoreFlag(values.store, {
    historySize: values['history-size'],
    redisCluster: values['redis-cluster'],
    storeTimeoutMs: values['store-timeout'],
  });

  const warnStyle = styleFor(process.stderr);
  const warn = (text: string) => process.stderr.write(`\n${warnStyle.yellow('siar warn:')} ${text}\n\n`);
  if (listening.notice !== undefined) warn(listening.notice);
  let publisherKey = values['publisher-jwt-key'];
  let demoTokens: { publisherToken?: string; subscriberToken?: string } = {};
  let dashboardToken: string | undefined;
  if (development) {
    publisherKey = randomBytes(32).toString('base64url');
    const publisherToken = await createToken({ publish: ['*'], subscribe: ['*'] }, publisherKey);
    const subscriberToken = await createToken({ subscribe: ['*'] }, publisherKey);
    demoTokens = { publisherToken, subscriberToken };
    if (dashboard) dashboardToken = await createToken({ subscribe: [DASHBOARD_TOPIC] }, publisherKey);
    warn(developmentNotice(publisherKey, publisherToken, subscriberToken, values.host !== undefined));
  }
  const options: HubOptions = {
    publisherJwt: publisherKey === undefined ? undefined : { key: publisherKey, algorithm },
    subscriberJwt:
      subscriberKey === undefined
        ? undefined
        : { key: subscriberKey, algorithm: values['subscriber-jwt-algorithm'] ?? algorithm },
    issuer,
    jwksUrl: values['jwks-url'],
    resourceIdentifier: values['resource-identifier'],
    draft07: values['draft-07'],
    anonymous: values.anonymous,
    corsOrigins: origins(values['cors-origin']),
    publishOrigins: origins(values['publish-origin']),
    store,
    historySize: values['history-size'],
    storeTimeoutMs: values['store-timeout'],
    subscriptions: values.subscriptions,
    heartbeatMs: values.heartbeat,
    maxSubscribers: values['max-subscribers'],
    maxBufferedBytes: values['max-buffered-bytes'],
    demo: demo ? (development ? demoTokens : true) : false,
    dashboard,
    logger: stderrLogger,
  };
  const serving =
    workers === 1
      ? await serveHere(options, listening.server, port, host)
      : await serveWorkers({
          count: workers,
          options,
          server: listening.server,
          port,
          host,
          store: values.store,
          redisCluster: values['redis-cluster'],
        });
  const base = `${listening.scheme}://${host && host !== '0.0.0.0' && host !== '::' ? host : 'localhost'}:${serving.port}`;
  // Its audience is the hub's URL as printed: known only now that the hub listens.
  const accessTokenNote =
    development && publisherKey !== undefined && issuer !== undefined
      ? await developmentAccessTokenNote(
          publisherKey,
          issuer,
          values['resource-identifier'] ?? `${base}/.well-known/mercure`,
        )
      : undefined;

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (reason: string, code: number) => {
      if (stopping) return;
      stopping = true;
      process.stdout.write(`${reason}: shutting down…\n`);
      // Bounded: whatever hangs, the process exits within 10 s. Whatever hangs also keeps the
      // event loop alive (a store's socket, say), so returning a status would not end the process.
      const force = setTimeout(() => {
        process.stderr.write(
          `${warnStyle.red('siar:')} the hub did not shut down within ${SHUTDOWN_BOUND_MS / 1000} s (a store that does not answer?); exiting.\n`,
        );
        process.exit(1);
      }, SHUTDOWN_BOUND_MS);
      force.unref();
      serving
        .close()
        .then(() => {
          clearTimeout(force);
          resolve(code);
        })
        .catch(() => resolve(1));
    };
    serving.failed?.then((message) => {
      process.stderr.write(`${warnStyle.red('siar:')} ${message}\n`);
      stop('workers failing', 1);
    });
    process.once('SIGTERM', () => stop('SIGTERM', 0));
    process.once('SIGINT', () => stop('SIGINT', 0));
    // The banner says the hub is ready, so a signal sent on seeing it must find the handlers above.
    process.stdout.write(
      banner({
        base,
        store: values.store.split(':')[0] as string,
        workers,
        protocols: listening.protocols,
        h2c: listening.server.h2c === true,
        demo,
        dashboard,
        dashboardToken,
      }),
    );
    if (accessTokenNote !== undefined) warn(accessTokenNote);
  });
}

/** One process serves: the hub, its server, listening. */
async function serveHere(
  options: HubOptions,
  server: HubServerOptions,
  port: number,
  host: string | undefined,
): Promise<Serving> {
  const running = await startHub(options, server, port, host);
  return { port: running.port, close: () => stopHub(running) };
}

/** The development hub's access token (draft-08), with what it is for. */
async function developmentAccessTokenNote(
  key: Parameters<typeof createAccessToken>[1],
  issuer: string,
  audience: string,
): Promise<string> {
  const accessToken = await createAccessToken({ publish: ['*'], subscribe: ['*'] }, key, {
    issuer,
    audience,
    expiresIn: DEVELOPMENT_ACCESS_TOKEN_LIFETIME,
  });
  return (
    `an access token (draft-08: Authorization header or cookie, never the URL) of issuer ${issuer}\n` +
    `for ${audience}, valid ${DEVELOPMENT_ACCESS_TOKEN_LIFETIME}, publishing and receiving everything:\n  ${accessToken}`
  );
}

/** What the hub prints once it listens: its URL, and the pages' links (paths, for h2c: through a proxy). */
function banner(at: {
  base: string;
  store: string;
  workers: number;
  protocols: string | undefined;
  h2c: boolean;
  demo: boolean;
  dashboard: boolean;
  dashboardToken: string | undefined;
}): string {
  const style = styleFor(process.stdout);
  const page = (path: string) => (at.h2c ? path : style.cyan(`${at.base}${path}`));
  const lines = [
    `${style.bold('Siar hub')} listening on ${style.cyan(`${at.base}/.well-known/mercure`)} (store: ${at.store}${at.workers > 1 ? `, ${at.workers} workers` : ''})${at.protocols ? ` over ${at.protocols}` : ''}`,
  ];
  if (at.h2c && (at.demo || at.dashboard)) {
    lines.push(
      '  h2c is HTTP/2 without TLS, for a proxy in front of the hub that terminates TLS; browsers do not',
      '  speak it. Open these paths through that proxy (or serve HTTPS: --tls-cert and --tls-key, or --dev-tls):',
    );
  }
  if (at.demo) lines.push(`  Demo page:  ${page('/')}`);
  if (at.dashboard) {
    lines.push(
      at.dashboardToken === undefined
        ? `  Dashboard:  ${page('/dashboard')} ${style.dim(`(add ?token=<JWT>: siar token --subscribe '${DASHBOARD_TOPIC}' --key <the key>)`)}`
        : `  Dashboard:  ${page(`/dashboard?token=${at.dashboardToken}`)}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

export const command = defineCommand({
  name: 'serve',
  usage: '[options]',
  about: `Runs a Mercure hub: Mercure 1.0 (draft-dunglas-mercure-08) and draft-07 on one endpoint.
Subscribers connect to /.well-known/mercure with EventSource (match=, match_urlpattern=, or
draft-07's topic=), publishers POST updates there. Every option can also be set by the environment
variable named in brackets (the option wins; an empty variable counts as unset).`,
  flags: FLAGS,
  more: `With no key set, the hub makes a development key, prints it with ready-to-use tokens and a link
to the dashboard, listens on ${DEVELOPMENT_HOST} only unless --host says otherwise, and says so: set a
key of your own for anything but trying it out. The dashboard needs a subscriber token whose
mercure.subscribe claim matches ${DASHBOARD_TOPIC}:
siar token --subscribe '${DASHBOARD_TOPIC}' --key "$SECRET" prints one.

Access tokens (draft-08: typ at+jwt, authorization_details) are verified with the keys above when
their iss is --issuer, and with the keys of --jwks-url; their aud must hold --resource-identifier.
siar token --issuer <iss> --audience <hub URL> --publish '*' --key "$SECRET" prints one.

Examples:
  siar serve --demo                        try it: demo page at /, dashboard link printed
  siar serve --publisher-jwt-key "$SECRET" --cors-origin https://app.example.com --store sqlite:hub.db
  siar serve --jwt-algorithm RS256 --publisher-jwt-key @publisher.pub.pem --anonymous
  siar serve --tls-cert cert.pem --tls-key key.pem --publisher-jwt-key "$SECRET"   HTTP/2 over HTTPS
  siar serve --dev-tls --demo              https://localhost:3000/, self-signed, past 6 tabs
  siar serve --store 'redis://127.0.0.1:6379/0?prefix=app' --publisher-jwt-key "$SECRET" --port 3001
  siar serve --workers auto --publisher-jwt-key "$SECRET"   every core, one hub (memory store shared)
  SIAR_PORT=8080 SIAR_DASHBOARD=0 siar serve --publisher-jwt-key "$SECRET"
  siar serve --issuer https://auth.example.com --jwks-url https://auth.example.com/jwks.json \\
    --resource-identifier https://hub.example.com/.well-known/mercure --no-draft-07
`,
  run,
});
