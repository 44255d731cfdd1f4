import { createToken, JWT_ALGORITHMS } from '../hub/index.js';
import { defineCommand } from './command.js';
import { defineFlags } from './flags.js';
import { UsageError } from './usage-error.js';

const FLAGS = defineFlags({
  publish: {
    kind: 'list',
    value: '<selector>',
    help: 'a topic selector the token may publish to (repeatable; * for all)',
  },
  subscribe: {
    kind: 'list',
    value: '<selector>',
    help: 'a topic selector whose private updates the token may receive (repeatable)',
  },
  payload: { kind: 'string', value: '<json>', help: 'mercure.payload, shown in subscription events' },
  key: {
    kind: 'key',
    short: 'k',
    value: '<key>',
    env: ['SIAR_PUBLISHER_JWT_KEY', 'MERCURE_PUBLISHER_JWT_KEY'],
    help: "the signing key: the hub's secret for HS*, a PEM private key for the others; @file reads a file",
  },
  algorithm: {
    kind: 'string',
    short: 'a',
    value: '<alg>',
    choices: JWT_ALGORITHMS,
    default: 'HS256',
    help: JWT_ALGORITHMS.join(', '),
  },
  expires: {
    kind: 'string',
    short: 'e',
    value: '<span>',
    defaultText: 'none',
    help: 'lifetime: seconds, or 30m, 12h, 7d…',
  },
});

export const command = defineCommand({
  name: 'token',
  usage: '[options]',
  about: `Prints a JWT for a Mercure hub: the "mercure" claim with the topics the holder may publish to and
receive privately.`,
  flags: FLAGS,
  more: `Examples:
  siar token --publish '*' --key "$SECRET"
  siar token --subscribe 'https://example.com/users/ada/{?topic}' --expires 1h --key "$SECRET"
  siar token --publish 'https://example.com/books/{id}' -a RS256 --key @private.pem
`,
  async run(values) {
    const { key, algorithm, expires } = values;
    if (key === undefined)
      throw new UsageError('siar token needs --key: the secret (HS256) or private key the hub trusts.');
    if (!values.publish && !values.subscribe && values.payload === undefined) {
      throw new UsageError(
        'Say what the token allows: --publish and/or --subscribe (see siar token --help).',
      );
    }
    let payload: unknown;
    if (values.payload !== undefined) {
      try {
        payload = JSON.parse(values.payload);
      } catch {
        throw new UsageError('--payload must be JSON, e.g. --payload \'{"user":"ada"}\'.');
      }
    }
    if (expires !== undefined && !/^[0-9]+(s|m|h|d|w)?$/.test(expires)) {
      throw new UsageError('--expires must be seconds or a span such as 30m, 12h, 7d.');
    }
    const token = await createToken({ publish: values.publish, subscribe: values.subscribe, payload }, key, {
      algorithm,
      expiresIn: expires === undefined ? undefined : /^[0-9]+$/.test(expires) ? Number(expires) : expires,
    });
    process.stdout.write(`${token}\n`);
    return 0;
  },
});
