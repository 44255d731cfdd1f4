import { randomBytes } from 'node:crypto';
import { DASHBOARD_TOPIC } from '../hub/dashboard-figures.js';
import { closeHubServer, createHubServer, type HubServer } from '../hub/hub-server.js';
import {
  createHub,
  createToken,
  type HubOptions,
  type HubStore,
  JWT_ALGORITHMS,
  type JwtAlgorithm,
} from '../hub/index.js';
import { openStore, StoreSpecError } from '../hub/stores/open.js';
import { stderrLogger } from '../server/index.js';
import { type Command, UsageError } from './command.js';
import { booleanFlag, integerFlag, parseFlags, readKey } from './flags.js';
import { listeningOptions, TLS_FLAGS, TLS_HELP } from './serve-tls.js';
import { styleFor } from './style.js';

const help = `Usage: siar serve [options]

Runs a Mercure hub (draft-dunglas-mercure-07): subscribers connect to /.well-known/mercure with
EventSource, publishers POST updates there. Every option can also be set by the environment
variable named in brackets.

Options:
  -p, --port <port>               port to listen on [SIAR_PORT, PORT]                    default 3000
      --host <host>               address to listen on [SIAR_HOST]                       default all
      --publisher-jwt-key <key>   key checking publishers' tokens; @file reads a file
                                  [SIAR_PUBLISHER_JWT_KEY, MERCURE_PUBLISHER_JWT_KEY]
      --subscriber-jwt-key <key>  key checking subscribers' tokens (default: the publisher key)
                                  [SIAR_SUBSCRIBER_JWT_KEY, MERCURE_SUBSCRIBER_JWT_KEY]
      --jwt-algorithm <alg>       ${JWT_ALGORITHMS.join(', ')} [SIAR_JWT_ALGORITHM,
                                  MERCURE_PUBLISHER_JWT_ALG]                            default HS256
      --anonymous                 let subscribers without a token in (public updates) [SIAR_ANONYMOUS]
      --cors-origin <origin>      allow this browser origin, with credentials (repeatable; * for any,
                                  without credentials) [SIAR_CORS_ORIGINS, comma-separated]
      --publish-origin <origin>   allow publishing with the cookie from this origin (repeatable)
                                  [SIAR_PUBLISH_ORIGINS]
      --store <store>             memory; sqlite:<path> (durable); for many nodes:
                                  redis://[:password@]host:port[/db][?prefix=<keys prefix>] or
                                  rediss://… (SIAR_REDIS_CLUSTER=1 for Redis Cluster),
                                  postgres://user[:password]@host:port/db[?prefix=<tables prefix>],
                                  nats://host:port[?prefix=<streams prefix>] [SIAR_STORE]  default memory
      --history-size <n>          updates kept for replay [SIAR_HISTORY_SIZE]  default 10000 (sqlite 100000)
      --subscriptions             publish subscription events, serve the subscriptions API
                                  [SIAR_SUBSCRIPTIONS]
      --heartbeat <ms>            heartbeat interval, 0 for none [SIAR_HEARTBEAT]        default 15000
      --max-subscribers <n>       subscribers at once [SIAR_MAX_SUBSCRIBERS]             default 50000
      --max-buffered-bytes <n>    bytes a subscriber may leave unread before it is dropped (it comes
                                  back with Last-Event-ID) [SIAR_MAX_BUFFERED_BYTES]   default 1048576
      --demo                      serve the demo page at / [SIAR_DEMO]
      --no-dashboard              do not serve the live dashboard at /dashboard nor send its figures
                                  [SIAR_DASHBOARD=0]
${TLS_HELP}
  -h, --help                      show this help

With no key set, the hub makes a development key, prints it with ready-to-use tokens and a link
to the dashboard, and says so: set a key of your own for anything but trying it out. The dashboard
needs a subscriber token whose mercure.subscribe claim matches ${DASHBOARD_TOPIC}:
siar token --subscribe '${DASHBOARD_TOPIC}' --key "$SECRET" prints one.

Examples:
  siar serve --demo                        try it: demo page at /, dashboard link printed
  siar serve --publisher-jwt-key "$SECRET" --cors-origin https://app.example.com --store sqlite:hub.db
  siar serve --jwt-algorithm RS256 --publisher-jwt-key @publisher.pub.pem --anonymous
  siar serve --tls-cert cert.pem --tls-key key.pem --publisher-jwt-key "$SECRET"   HTTP/2 over HTTPS
  siar serve --dev-tls --demo              https://localhost:3000/, self-signed, past 6 tabs
  siar serve --store 'redis://127.0.0.1:6379/0?prefix=app' --publisher-jwt-key "$SECRET" --port 3001
  SIAR_PORT=8080 SIAR_DASHBOARD=0 siar serve --publisher-jwt-key "$SECRET"
`;

function list(flags: string[] | undefined, env: string | undefined): string[] | undefined {
  if (flags !== undefined && flags.length > 0) return flags;
  if (env === undefined || env.trim() === '') return undefined;
  return env
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

function origins(values: string[] | undefined): readonly string[] | '*' | undefined {
  if (values === undefined) return undefined;
  return values.includes('*') ? '*' : values;
}

/** Opens the store named, with a store specification's mistake answered as a usage error. */
async function openStoreFlag(spec: string, historySize: number | undefined): Promise<HubStore | undefined> {
  try {
    return await openStore(spec, {
      historySize,
      redisCluster: booleanFlag(undefined, process.env.SIAR_REDIS_CLUSTER),
    });
  } catch (error) {
    if (error instanceof StoreSpecError) throw new UsageError(error.message);
    throw error;
  }
}

async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags('serve', argv, OPTIONS);
  const env = process.env;
  const port = integerFlag(values.port ?? env.SIAR_PORT ?? env.PORT, '--port') ?? 3000;
  const host = values.host ?? env.SIAR_HOST;
  const listening = listeningOptions(values, env, (text) =>
    process.stderr.write(`\n${styleFor(process.stderr).yellow('siar warn:')} ${text}\n\n`),
  );
  const algorithm = (values['jwt-algorithm'] ??
    env.SIAR_JWT_ALGORITHM ??
    env.MERCURE_PUBLISHER_JWT_ALG ??
    'HS256') as JwtAlgorithm;
  if (!JWT_ALGORITHMS.includes(algorithm)) {
    throw new UsageError(`--jwt-algorithm must be one of ${JWT_ALGORITHMS.join(', ')}, got "${algorithm}".`);
  }
  let publisherKey = readKey(
    values['publisher-jwt-key'] ?? env.SIAR_PUBLISHER_JWT_KEY ?? env.MERCURE_PUBLISHER_JWT_KEY,
    '--publisher-jwt-key',
  );
  const subscriberKey = readKey(
    values['subscriber-jwt-key'] ?? env.SIAR_SUBSCRIBER_JWT_KEY ?? env.MERCURE_SUBSCRIBER_JWT_KEY,
    '--subscriber-jwt-key',
  );
  const subscriberAlgorithm = (env.MERCURE_SUBSCRIBER_JWT_ALG as JwtAlgorithm | undefined) ?? algorithm;
  const historySize = integerFlag(values['history-size'] ?? env.SIAR_HISTORY_SIZE, '--history-size');
  const demo = booleanFlag(values.demo, env.SIAR_DEMO);
  // On unless turned off: --no-dashboard, or SIAR_DASHBOARD set to a false-ish value.
  const dashboard = !values['no-dashboard'] && !/^(0|false|no|off)$/i.test((env.SIAR_DASHBOARD ?? '').trim());
  const warn = styleFor(process.stderr);
  const style = styleFor(process.stdout);
  let demoTokens: { publisherToken?: string; subscriberToken?: string } = {};
  let dashboardToken: string | undefined;
  const development = publisherKey === undefined && subscriberKey === undefined;
  if (development) {
    publisherKey = randomBytes(32).toString('base64url');
    const publisherToken = await createToken({ publish: ['*'], subscribe: ['*'] }, publisherKey);
    const subscriberToken = await createToken({ subscribe: ['*'] }, publisherKey);
    demoTokens = { publisherToken, subscriberToken };
    if (dashboard) dashboardToken = await createToken({ subscribe: [DASHBOARD_TOPIC] }, publisherKey);
    process.stderr.write(
      `\n${warn.yellow('siar warn:')} no JWT key is set, so the hub made a development key for this run only:\n` +
        `  key (HS256):       ${publisherKey}\n` +
        `  publisher token:   ${publisherToken}\n` +
        `  subscriber token:  ${subscriberToken}\n` +
        `Set --publisher-jwt-key (or SIAR_PUBLISHER_JWT_KEY) to a secret of your own for real use.\n\n`,
    );
  }
  const storeSpec = values.store ?? env.SIAR_STORE ?? 'memory';
  const options: HubOptions = {
    publisherJwt: publisherKey === undefined ? undefined : { key: publisherKey, algorithm },
    subscriberJwt:
      subscriberKey === undefined ? undefined : { key: subscriberKey, algorithm: subscriberAlgorithm },
    anonymous: booleanFlag(values.anonymous, env.SIAR_ANONYMOUS),
    corsOrigins: origins(list(values['cors-origin'], env.SIAR_CORS_ORIGINS)),
    publishOrigins: origins(list(values['publish-origin'], env.SIAR_PUBLISH_ORIGINS)),
    store: await openStoreFlag(storeSpec, historySize),
    historySize,
    subscriptions: booleanFlag(values.subscriptions, env.SIAR_SUBSCRIPTIONS),
    heartbeatMs: integerFlag(values.heartbeat ?? env.SIAR_HEARTBEAT, '--heartbeat'),
    maxSubscribers: integerFlag(values['max-subscribers'] ?? env.SIAR_MAX_SUBSCRIBERS, '--max-subscribers'),
    maxBufferedBytes: integerFlag(
      values['max-buffered-bytes'] ?? env.SIAR_MAX_BUFFERED_BYTES,
      '--max-buffered-bytes',
    ),
    demo: demo ? (development ? demoTokens : true) : false,
    dashboard,
    logger: stderrLogger,
  };
  const hub = createHub(options);
  try {
    await hub.ready();
  } catch (error) {
    throw new UsageError(
      `${(error as Error).message}\nCheck the key and store options: siar serve --help lists them.`,
      1,
    );
  }
  let server: HubServer;
  try {
    server = createHubServer(hub, listening.server);
  } catch (error) {
    await hub.close();
    throw new UsageError(`Cannot serve with this certificate and key: ${(error as Error).message}`, 1);
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new UsageError(
          error.code === 'EADDRINUSE'
            ? `Port ${port} is already in use: pick another with --port.`
            : error.message,
          1,
        ),
      ),
    );
    server.listen(port, host, resolve);
  });
  const address = server.address();
  const actualPort = typeof address === 'object' && address !== null ? address.port : port;
  const base = `${listening.scheme}://${host && host !== '0.0.0.0' && host !== '::' ? host : 'localhost'}:${actualPort}`;
  const lines = [
    `${style.bold('Siar hub')} listening on ${style.cyan(`${base}/.well-known/mercure`)} (store: ${storeSpec.split(':')[0]})${listening.protocols ? ` over ${listening.protocols}` : ''}`,
  ];
  if (demo) lines.push(`  Demo page:  ${style.cyan(`${base}/`)}`);
  if (dashboard) {
    lines.push(
      dashboardToken === undefined
        ? `  Dashboard:  ${style.cyan(`${base}/dashboard`)} ${style.dim(`(add ?token=<JWT>: siar token --subscribe '${DASHBOARD_TOPIC}' --key <the key>)`)}`
        : `  Dashboard:  ${style.cyan(`${base}/dashboard?token=${dashboardToken}`)}`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      process.stdout.write(`${signal}: shutting down…\n`);
      // Bounded: whatever hangs, the process exits within 10 s. Whatever hangs also keeps the
      // event loop alive (a store's socket, say), so returning a status would not end the process.
      const force = setTimeout(() => {
        process.stderr.write(
          `${warn.red('siar:')} the hub did not shut down within 10 s (a store that does not answer?); exiting.\n`,
        );
        process.exit(1);
      }, 10_000);
      force.unref();
      // GOAWAY on HTTP/2 connections, then retry: and the end of every stream.
      closeHubServer(server, { graceMs: 5000 })
        .then(() => {
          clearTimeout(force);
          resolve(0);
        })
        .catch(() => resolve(1));
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}

const OPTIONS = {
  port: { type: 'string', short: 'p' },
  host: { type: 'string' },
  'publisher-jwt-key': { type: 'string' },
  'subscriber-jwt-key': { type: 'string' },
  'jwt-algorithm': { type: 'string' },
  anonymous: { type: 'boolean' },
  'cors-origin': { type: 'string', multiple: true },
  'publish-origin': { type: 'string', multiple: true },
  store: { type: 'string' },
  'history-size': { type: 'string' },
  subscriptions: { type: 'boolean' },
  heartbeat: { type: 'string' },
  'max-subscribers': { type: 'string' },
  'max-buffered-bytes': { type: 'string' },
  demo: { type: 'boolean' },
  'no-dashboard': { type: 'boolean' },
  ...TLS_FLAGS,
} as const;

export const command: Command = {
  summary: 'run the Mercure hub (memory, SQLite or Redis store; dashboard; demo page)',
  help,
  run,
};
