import { open } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { createLocalJWKSet, errors, type JSONWebKeySet, type JWK, type JWSHeaderParameters } from 'jose';
import { ASYMMETRIC_ALGORITHMS, type KeySource, type VerificationKey } from './key-source.js';

/**
 * An issuer's keys from a JSON Web Key Set (RFC 7517): fetched over `http:`/`https:` or read from a
 * `file:` URL, kept for `maxAgeMs`, fetched again when a token names a `kid` the set lacks (a key
 * rotation). Every load has a deadline and a size bound, and loads are rate-limited: at most one per
 * `refetchIntervalMs`, whatever tokens arrive, so tokens with made-up `kid`s cannot turn the hub into
 * a flood of requests to the issuer. Only public keys for asymmetric algorithms are taken: an `oct`
 * (shared-secret) key in the set is left out.
 */

/** Default time a loaded key set is used before it is loaded again: 10 minutes. */
export const DEFAULT_JWKS_MAX_AGE_MS = 10 * 60_000;
/** Default shortest time between two loads of a key set: 30 s. */
export const DEFAULT_JWKS_REFETCH_INTERVAL_MS = 30_000;
/** Default deadline of one load (connection, answer and body): 5 s. */
export const DEFAULT_JWKS_TIMEOUT_MS = 5_000;
/** Default largest key set document: 256 KiB. */
export const DEFAULT_JWKS_MAX_BYTES = 256 * 1024;
/** Default most keys taken from one set. */
export const DEFAULT_JWKS_MAX_KEYS = 100;

export interface JwksOptions {
  /** `https:` (or `http:`) URL of the set, or a `file:` URL. */
  url: string;
  /** Algorithms accepted with the set's keys. Default: every asymmetric one. */
  algorithms?: readonly string[];
  /** Milliseconds a loaded set is used before it is loaded again. Default 10 minutes. */
  maxAgeMs?: number;
  /** Shortest time between two loads, in ms. Default 30 s. */
  refetchIntervalMs?: number;
  /** Deadline of one load, in ms. Default 5 s. */
  timeoutMs?: number;
  /** Largest set document, in bytes. Default 256 KiB. */
  maxBytes?: number;
  /** Most keys taken from the set. Default 100. */
  maxKeys?: number;
  /** The clock, in ms (tests move it). Default `Date.now`. */
  clock?: () => number;
}

/** Why a key could not be had: no key of the set fits the token, or the set could not be loaded. */
export type JwksErrorKind = 'no-key' | 'unavailable';

export class JwksError extends Error {
  override readonly name = 'JwksError';
  constructor(
    readonly kind: JwksErrorKind,
    message: string,
  ) {
    super(message);
  }
}

type KeySelector = (header: JWSHeaderParameters) => Promise<VerificationKey>;

export class JwksKeySource implements KeySource {
  readonly algorithms: readonly string[];
  private readonly url: URL;
  private readonly maxAgeMs: number;
  private readonly refetchIntervalMs: number;
  private readonly timeoutMs: number;
  private readonly maxBytes: number;
  private readonly maxKeys: number;
  private readonly clock: () => number;
  private set: { select: KeySelector; loadedAt: number } | undefined;
  private loading: Promise<void> | undefined;
  private lastAttemptAt = Number.NEGATIVE_INFINITY;
  private lastError: JwksError | undefined;
  private loads = 0;

  constructor(options: JwksOptions) {
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      throw new TypeError(`The JWKS URL "${options.url}" is not a URL.`);
    }
    if (!['http:', 'https:', 'file:'].includes(url.protocol)) {
      throw new TypeError(`The JWKS URL must be http:, https: or file:, not ${url.protocol}`);
    }
    const algorithms = options.algorithms ?? ASYMMETRIC_ALGORITHMS;
    const symmetric = algorithms.find((alg) => !(ASYMMETRIC_ALGORITHMS as readonly string[]).includes(alg));
    if (symmetric !== undefined) {
      throw new TypeError(`A key set is for asymmetric algorithms only, not ${symmetric}.`);
    }
    this.url = url;
    this.algorithms = algorithms;
    this.maxAgeMs = options.maxAgeMs ?? DEFAULT_JWKS_MAX_AGE_MS;
    this.refetchIntervalMs = options.refetchIntervalMs ?? DEFAULT_JWKS_REFETCH_INTERVAL_MS;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_JWKS_TIMEOUT_MS;
    this.maxBytes = options.maxBytes ?? DEFAULT_JWKS_MAX_BYTES;
    this.maxKeys = options.maxKeys ?? DEFAULT_JWKS_MAX_KEYS;
    this.clock = options.clock ?? Date.now;
  }

  /** Loads made so far (successful or not). */
  get loadCount(): number {
    return this.loads;
  }

  /** Loads the set now; rejects with a {@link JwksError} when it cannot be had. */
  async ready(): Promise<void> {
    if (this.set === undefined) await this.load();
    if (this.set === undefined) throw this.lastError ?? new JwksError('unavailable', 'No key set.');
  }

  async key(header: JWSHeaderParameters): Promise<VerificationKey> {
    // Checked before the set: a token with another algorithm must not make the hub load it again.
    if (header.alg === undefined || !this.algorithms.includes(header.alg)) {
      throw new JwksError('no-key', `The key set takes no ${header.alg ?? 'unnamed'} tokens.`);
    }
    if (this.set === undefined || this.clock() - this.set.loadedAt >= this.maxAgeMs) {
      // A stale set is kept when its reload fails: the issuer's outage is not the hub's.
      await this.load();
    }
    const set = this.set;
    if (set === undefined) {
      throw this.lastError ?? new JwksError('unavailable', `The key set at ${this.url.href} is not loaded.`);
    }
    try {
      return await set.select(header);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey)) throw noKey(error);
    }
    // A kid the set lacks: the issuer may have rotated its keys. Load again, within the rate limit.
    await this.load();
    if (this.set === set) throw noKey(new errors.JWKSNoMatchingKey());
    try {
      return await (this.set as NonNullable<typeof this.set>).select(header);
    } catch (error) {
      throw noKey(error);
    }
  }

  /** One load at a time, at most one per refetch interval; a failure is kept in `lastError`. */
  private load(): Promise<void> {
    if (this.loading !== undefined) return this.loading;
    const now = this.clock();
    if (now - this.lastAttemptAt < this.refetchIntervalMs) return Promise.resolve();
    this.lastAttemptAt = now;
    this.loads++;
    this.loading = this.read()
      .then((document) => {
        this.set = { select: this.selector(document), loadedAt: this.clock() };
        this.lastError = undefined;
      })
      .catch((error: unknown) => {
        this.lastError =
          error instanceof JwksError
            ? error
            : new JwksError(
                'unavailable',
                `The key set at ${this.url.href} could not be loaded: ${describe(error)}`,
              );
      })
      .finally(() => {
        this.loading = undefined;
      });
    return this.loading;
  }

  private selector(document: unknown): KeySelector {
    if (
      typeof document !== 'object' ||
      document === null ||
      !Array.isArray((document as JSONWebKeySet).keys)
    ) {
      throw this.invalid('it is not a JSON Web Key Set ({"keys": [...]})');
    }
    const all = (document as JSONWebKeySet).keys as unknown[];
    if (all.length > this.maxKeys) throw this.invalid(`it has more than ${this.maxKeys} keys`);
    const keys = all.filter(
      (key): key is JWK =>
        typeof key === 'object' &&
        key !== null &&
        (key as JWK).kty !== 'oct' &&
        ((key as JWK).alg === undefined || this.algorithms.includes((key as JWK).alg as string)),
    );
    if (keys.length === 0) throw this.invalid('it has no public key for an accepted algorithm');
    let select: ReturnType<typeof createLocalJWKSet>;
    try {
      select = createLocalJWKSet({ keys });
    } catch (error) {
      throw this.invalid(describe(error));
    }
    return (header) => select(header);
  }

  private invalid(reason: string): JwksError {
    return new JwksError('unavailable', `The key set at ${this.url.href} is not usable: ${reason}.`);
  }

  private async read(): Promise<unknown> {
    const signal = AbortSignal.timeout(this.timeoutMs);
    const text = this.url.protocol === 'file:' ? await this.readFile(signal) : await this.fetch(signal);
    try {
      return JSON.parse(text);
    } catch {
      throw this.invalid('it is not JSON');
    }
  }

  private async fetch(signal: AbortSignal): Promise<string> {
    let response: Response;
    try {
      response = await fetch(this.url, {
        signal,
        headers: { accept: 'application/jwk-set+json, application/json' },
      });
    } catch (error) {
      throw this.unreachable(signal, error);
    }
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => {});
      throw new JwksError('unavailable', `The key set at ${this.url.href} answered ${response.status}.`);
    }
    const declared = Number(response.headers.get('content-length'));
    if (declared > this.maxBytes) {
      await response.body?.cancel().catch(() => {});
      throw this.tooLarge();
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    const reader = response.body?.getReader();
    try {
      for (let read = await reader?.read(); read !== undefined && !read.done; read = await reader?.read()) {
        size += read.value.byteLength;
        if (size > this.maxBytes) {
          await reader?.cancel().catch(() => {});
          throw this.tooLarge();
        }
        chunks.push(read.value);
      }
    } catch (error) {
      if (error instanceof JwksError) throw error;
      throw this.unreachable(signal, error);
    }
    return Buffer.concat(chunks, size).toString('utf8');
  }

  private async readFile(signal: AbortSignal): Promise<string> {
    let file: Awaited<ReturnType<typeof open>> | undefined;
    try {
      file = await open(fileURLToPath(this.url), 'r');
      const buffer = Buffer.alloc(this.maxBytes + 1);
      let size = 0;
      while (size < buffer.length) {
        signal.throwIfAborted();
        const { bytesRead } = await file.read(buffer, size, buffer.length - size, null);
        if (bytesRead === 0) break;
        size += bytesRead;
      }
      if (size > this.maxBytes) throw this.tooLarge();
      return buffer.toString('utf8', 0, size);
    } catch (error) {
      if (error instanceof JwksError) throw error;
      throw this.unreachable(signal, error);
    } finally {
      await file?.close();
    }
  }

  private tooLarge(): JwksError {
    return new JwksError(
      'unavailable',
      `The key set at ${this.url.href} is larger than ${this.maxBytes} bytes.`,
    );
  }

  private unreachable(signal: AbortSignal, error: unknown): JwksError {
    const reason = signal.aborted ? `no answer within ${this.timeoutMs} ms` : describe(error);
    return new JwksError('unavailable', `The key set at ${this.url.href} could not be loaded: ${reason}.`);
  }
}

function noKey(error: unknown): JwksError {
  if (error instanceof errors.JWKSMultipleMatchingKeys) {
    return new JwksError(
      'no-key',
      'The token names no "kid" and several keys of its issuer could verify it.',
    );
  }
  if (error instanceof JwksError) return error;
  return new JwksError('no-key', "No key of the token's issuer matches its header (kid, alg).");
}

function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message ?? String(error);
}
