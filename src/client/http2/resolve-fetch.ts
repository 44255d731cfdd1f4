import { ClientError } from '../errors.js';
import type { Fetch } from '../types.js';
import { createHttp2Fetch } from './fetch.js';
import { inNode } from './node-modules.js';
import type { TlsOptions } from './tls.js';

/**
 * The fetch EventSource and subscribe() use: `fetch` when given; the global fetch with `http2: false`,
 * and outside Node.js (a browser's fetch negotiates HTTP/2 itself); else {@link createHttp2Fetch}
 * (HTTP/2 for `https:` servers that offer it, h2c too with `http2: true`).
 */
export function resolveFetch(options: { fetch?: Fetch; http2?: boolean; tls?: TlsOptions }): Fetch {
  const own = options.fetch;
  // Called as a plain function: a browser's fetch refuses to run as a method of another object.
  if (own !== undefined) return (url, init) => own(url, init);
  if (options.http2 === false || (options.http2 === undefined && options.tls === undefined && !inNode())) {
    if (options.tls !== undefined) {
      throw new ClientError(
        'invalid-option',
        'tls needs the built-in transport: leave http2 unset (or true), or pass a fetch of your own.',
      );
    }
    return (url, init) => globalThis.fetch(url, init);
  }
  return createHttp2Fetch({ http2: options.http2, tls: options.tls }) as Fetch;
}
