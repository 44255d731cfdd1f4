import { createToken, JWT_ALGORITHMS, type JwtAlgorithm } from '../hub/index.js';
import { type Command, UsageError } from './command.js';
import { parseFlags, readKey } from './flags.js';

const help = `Usage: siar token [options]

Prints a JWT for a Mercure hub: the "mercure" claim with the topics the holder may publish to and
receive privately.

Options:
      --publish <selector>    a topic selector the token may publish to (repeatable; * for all)
      --subscribe <selector>  a topic selector whose private updates the token may receive (repeatable)
      --payload <json>        mercure.payload, shown in subscription events
  -k, --key <key>             the signing key: the hub's secret for HS*, a PEM private key for the
                              others; @file reads a file [SIAR_PUBLISHER_JWT_KEY, MERCURE_PUBLISHER_JWT_KEY]
  -a, --algorithm <alg>       ${JWT_ALGORITHMS.join(', ')}   default HS256
  -e, --expires <span>        lifetime: seconds, or 30m, 12h, 7d…   default: none
  -h, --help                  show this help

Examples:
  siar token --publish '*' --key "$SECRET"
  siar token --subscribe 'https://example.com/users/ada/{?topic}' --expires 1h --key "$SECRET"
  siar token --publish 'https://example.com/books/{id}' -a RS256 --key @private.pem
`;

async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags('token', argv, OPTIONS);
  const key = readKey(
    values.key ?? process.env.SIAR_PUBLISHER_JWT_KEY ?? process.env.MERCURE_PUBLISHER_JWT_KEY,
    '--key',
  );
  if (key === undefined)
    throw new UsageError('siar token needs --key: the secret (HS256) or private key the hub trusts.');
  const algorithm = (values.algorithm ?? 'HS256') as JwtAlgorithm;
  if (!JWT_ALGORITHMS.includes(algorithm)) {
    throw new UsageError(`--algorithm must be one of ${JWT_ALGORITHMS.join(', ')}, got "${algorithm}".`);
  }
  if (!values.publish && !values.subscribe && values.payload === undefined) {
    throw new UsageError('Say what the token allows: --publish and/or --subscribe (see siar token --help).');
  }
  let payload: unknown;
  if (values.payload !== undefined) {
    try {
      payload = JSON.parse(values.payload);
    } catch {
      throw new UsageError('--payload must be JSON, e.g. --payload \'{"user":"ada"}\'.');
    }
  }
  const expires = values.expires;
  if (expires !== undefined && !/^[0-9]+(s|m|h|d|w)?$/.test(expires)) {
    throw new UsageError('--expires must be seconds or a span such as 30m, 12h, 7d.');
  }
  const token = await createToken({ publish: values.publish, subscribe: values.subscribe, payload }, key, {
    algorithm,
    expiresIn: expires === undefined ? undefined : /^[0-9]+$/.test(expires) ? Number(expires) : expires,
  });
  process.stdout.write(`${token}\n`);
  return 0;
}

const OPTIONS = {
  publish: { type: 'string', multiple: true },
  subscribe: { type: 'string', multiple: true },
  payload: { type: 'string' },
  key: { type: 'string', short: 'k' },
  algorithm: { type: 'string', short: 'a' },
  expires: { type: 'string', short: 'e' },
} as const;

export const command: Command = { summary: 'print a JWT for a hub', help, run };
