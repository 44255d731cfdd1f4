import { createAccessToken, createToken, type GrantMatcher, JWT_ALGORITHMS } from '../hub/index.js';
import { defineCommand } from './command.js';
import { defineFlags, type FlagValues } from './flags.js';
import { UsageError } from './usage-error.js';

const FLAGS = defineFlags({
  publish: {
    kind: 'list',
    value: '<selector>',
    help: 'a topic selector the token may publish to (repeatable; * for all; with --issuer, an exact topic)',
  },
  subscribe: {
    kind: 'list',
    value: '<selector>',
    help: 'a topic selector whose private updates the token may receive (repeatable)',
  },
  'publish-urlpattern': {
    kind: 'list',
    value: '<pattern>',
    help: 'with --issuer: a URL Pattern of topics the token may publish to (repeatable)',
  },
  'subscribe-urlpattern': {
    kind: 'list',
    value: '<pattern>',
    help: 'with --issuer: a URL Pattern of topics whose private updates the token may receive',
  },
  payload: {
    kind: 'string',
    value: '<json>',
    help: "data shown with the holder's subscriptions in subscription events (mercure.payload; with --issuer, a JSON object)",
  },
  issuer: {
    kind: 'string',
    value: '<iss>',
    env: ['SIAR_ISSUER'],
    help: "mint an access token (draft-08, Mercure 1.0) of this issuer: the hub's --issuer",
  },
  audience: {
    kind: 'list',
    value: '<url>',
    env: ['SIAR_RESOURCE_IDENTIFIER'],
    help: "with --issuer: the token's aud, the hub's resource identifier (its URL unless set) (repeatable)",
  },
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
    defaultText: 'none (1h with --issuer: access tokens expire)',
    help: 'lifetime: seconds, or 30m, 12h, 7d…',
  },
});

/** The grants of an access token: the exact matchers and the URL Patterns of each action. */
function matchers(exact: string[] | undefined, patterns: string[] | undefined): GrantMatcher[] | undefined {
  const all: GrantMatcher[] = [
    ...(exact ?? []),
    ...(patterns ?? []).map((match) => ({ match, match_type: 'urlpattern' as const })),
  ];
  return all.length === 0 ? undefined : all;
}

async function mint(values: FlagValues<typeof FLAGS>, key: string): Promise<string> {
  const { algorithm, expires, issuer, audience } = values;
  const grants = [
    values.publish,
    values.subscribe,
    values['publish-urlpattern'],
    values['subscribe-urlpattern'],
  ];
  if (grants.every((list) => list === undefined) && values.payload === undefined) {
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
  if (expires !== undefined && !/^[0-9]+(s|m|h|d|w)?$/.test(expires)) {
    throw new UsageError('--expires must be seconds or a span such as 30m, 12h, 7d.');
  }
  const expiresIn = expires === undefined ? undefined : /^[0-9]+$/.test(expires) ? Number(expires) : expires;
  if (issuer === undefined) {
    if (audience !== undefined) throw new UsageError('--audience is for access tokens: add --issuer.');
    if (values['publish-urlpattern'] || values['subscribe-urlpattern']) {
      throw new UsageError(
        'URL Patterns are draft-08 matchers, for access tokens: add --issuer and --audience.',
      );
    }
    return createToken({ publish: values.publish, subscribe: values.subscribe, payload }, key, {
      algorithm,
      expiresIn,
    });
  }
  if (audience === undefined) {
    throw new UsageError(
      "An access token needs --audience: the hub's resource identifier, by default its URL (https://hub.example.com/.well-known/mercure).",
    );
  }
  if (payload !== undefined && (typeof payload !== 'object' || payload === null || Array.isArray(payload))) {
    throw new UsageError(
      '--payload of an access token must be a JSON object, e.g. --payload \'{"user":"ada"}\'.',
    );
  }
  const subscribe = matchers(values.subscribe, values['subscribe-urlpattern']);
  if (payload !== undefined && subscribe === undefined) {
    throw new UsageError('--payload goes with the subscribe grants of an access token: add --subscribe.');
  }
  return createAccessToken(
    {
      publish: matchers(values.publish, values['publish-urlpattern']),
      subscribe,
      payload: payload as Record<string, unknown> | undefined,
    },
    key,
    { issuer, audience: audience.length === 1 ? (audience[0] as string) : audience, algorithm, expiresIn },
  );
}

export const command = defineCommand({
  name: 'token',
  usage: '[options]',
  about: `Prints a JWT for a Mercure hub. Without --issuer, a draft-07 token: its "mercure" claim names the
topics the holder may publish to and receive privately. With --issuer and --audience, an access token
of Mercure 1.0 (draft-08, RFC 9068: typ at+jwt, iss, aud, exp, sub, client_id, iat, jti) whose
authorization_details grant the same, its matchers exact topics or URL Patterns.`,
  flags: FLAGS,
  more: `Examples:
  siar token --publish '*' --key "$SECRET"
  siar token --subscribe 'https://example.com/users/ada/{?topic}' --expires 1h --key "$SECRET"
  siar token --publish 'https://example.com/books/{id}' -a RS256 --key @private.pem
  siar token --issuer https://app.example.com --audience https://hub.example.com/.well-known/mercure \\
    --publish '*' --subscribe-urlpattern 'https://example.com/books/:id' --key "$SECRET"
`,
  async run(values) {
    const { key } = values;
    if (key === undefined)
      throw new UsageError('siar token needs --key: the secret (HS256) or private key the hub trusts.');
    process.stdout.write(`${await mint(values, key)}\n`);
    return 0;
  },
});
