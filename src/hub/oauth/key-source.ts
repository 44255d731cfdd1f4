import type { KeyObject } from 'node:crypto';
import type { JWSHeaderParameters } from 'jose';
import { JWT_ALGORITHMS, type JwtAlgorithm } from '../jwt-verifier.js';

/** A key jose verifies signatures with. */
export type VerificationKey = CryptoKey | KeyObject | Uint8Array;

/** Signature algorithms with a public key: the only ones a key set (JWKS) may bring. */
export const ASYMMETRIC_ALGORITHMS: readonly JwtAlgorithm[] = JWT_ALGORITHMS.filter(
  (algorithm) => !algorithm.startsWith('HS'),
);

/**
 * Where the keys of one trusted issuer come from. The token's header may pick among them (`kid`,
 * `alg`), never bring one: the `jwk`, `jku` and `x5u` header parameters are never read.
 */
export interface KeySource {
  /** The algorithms this source's keys verify; a token with another `alg` is not tried with them. */
  readonly algorithms: readonly string[];
  /** The key for a token with this protected header; rejects when none fits. */
  key(header: JWSHeaderParameters): Promise<VerificationKey>;
}

/**
 * One configured key (the hub's `--publisher-jwt-key`, for instance), already imported, with its
 * one algorithm.
 */
export function staticKeySource(
  key: VerificationKey | Promise<VerificationKey>,
  algorithm: string,
): KeySource {
  const imported = Promise.resolve(key);
  // A bad key is reported where the hub awaits its keys; until then no unhandled rejection.
  imported.catch(() => {});
  return { algorithms: [algorithm], key: () => imported };
}
