import type { KeyObject } from 'node:crypto';
import { importJWK, importSPKI, importX509, type JWK, type JWSHeaderParameters } from 'jose';
import { HubError } from '../errors.js';

/** JWS algorithms a hub can be configured with. `none` is never one of them. */
export const JWT_ALGORITHMS = [
  'HS256',
  'HS384',
  'HS512',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

/** A key jose verifies signatures with. */
export type VerificationKey = CryptoKey | KeyObject | Uint8Array;

/** Signature algorithms with a public key: the only ones a key set (JWKS) may bring. */
export const ASYMMETRIC_ALGORITHMS: readonly JwtAlgorithm[] = JWT_ALGORITHMS.filter(
  (algorithm) => !algorithm.startsWith('HS'),
);

/**
 * Where the keys of one trusted party come from: the hub's configured key, or an issuer's key set
 * (`jwks.ts`). The token's header may pick among them (`kid`, `alg`), never bring one: the `jwk`,
 * `jku` and `x5u` header parameters are never read.
 */
export interface KeySource {
  /** The algorithms this source's keys verify; a token with another `alg` is not tried with them. */
  readonly algorithms: readonly string[];
  /** The key for a token with this protected header; rejects when none fits. */
  key(header: JWSHeaderParameters): Promise<VerificationKey>;
  /** Resolves once the keys can be used; rejects with why they cannot. */
  ready(): Promise<void>;
}

/**
 * The key that checks tokens, and its algorithm. HMAC algorithms (`HS*`, the default `HS256`) take a
 * shared secret; the others take a public key: PEM (SPKI `BEGIN PUBLIC KEY` or an X.509
 * certificate), a JWK as JSON, or a `KeyObject`/`CryptoKey`. The algorithm comes from here, never
 * from the token.
 */
export interface JwtKeyOptions {
  key: string | Uint8Array | KeyObject | CryptoKey;
  algorithm?: JwtAlgorithm;
}

function isPem(key: string): boolean {
  return key.includes('-----BEGIN');
}

async function importKey(options: JwtKeyOptions, algorithm: JwtAlgorithm): Promise<VerificationKey> {
  if (!JWT_ALGORITHMS.includes(algorithm)) {
    throw new HubError(
      'invalid-option',
      `Unknown JWT algorithm "${algorithm}". Use one of ${JWT_ALGORITHMS.join(', ')}.`,
    );
  }
  const { key } = options;
  const hmac = algorithm.startsWith('HS');
  if (typeof key !== 'string') {
    if (key instanceof Uint8Array && !hmac) {
      throw new HubError('invalid-option', `A ${algorithm} key must be a public key, not bytes of a secret.`);
    }
    return key;
  }
  if (hmac) {
    // A public key used as an HMAC secret is the classic algorithm-confusion hole: refuse the setup.
    if (isPem(key) || key.trimStart().startsWith('{')) {
      throw new HubError(
        'invalid-option',
        `${algorithm} takes a shared secret, but the key given looks like a public key. Set the algorithm of that key (RS256, ES256, EdDSA…).`,
      );
    }
    return new TextEncoder().encode(key);
  }
  try {
    if (key.trimStart().startsWith('{')) return await importJWK(JSON.parse(key) as JWK, algorithm);
    if (key.includes('BEGIN CERTIFICATE')) return await importX509(key, algorithm);
    if (isPem(key)) return await importSPKI(key, algorithm);
  } catch (error) {
    throw new HubError(
      'invalid-option',
      `The ${algorithm} public key could not be read: ${(error as Error).message}`,
    );
  }
  throw new HubError(
    'invalid-option',
    `A ${algorithm} key must be a PEM public key, an X.509 certificate or a JWK.`,
  );
}

/**
 * A configured key (the hub's `publisherJwt`, say) with its one algorithm, `HS256` unless told. A
 * key that cannot be read is reported by `ready()`, with a `HubError` (`invalid-option`).
 */
export function configuredKeySource(options: JwtKeyOptions): KeySource {
  const algorithm = options.algorithm ?? 'HS256';
  const imported = importKey(options, algorithm);
  // Reported where the hub awaits its keys; until then, no unhandled rejection.
  imported.catch(() => {});
  return { algorithms: [algorithm], key: () => imported, ready: () => imported.then(() => undefined) };
}
