import type { IncomingHttpHeaders } from 'node:http';
import { type HubAddress, hubAddress } from './hub-url.js';

/**
 * A request to one of the hub's endpoints, as they read it beside its transport: its path, its
 * query (as sent, for the selectors' strict decoding, and parsed), and the hub as it reached it.
 */
export interface HubRequest {
  readonly path: string;
  readonly rawQuery: string;
  readonly query: URLSearchParams;
  readonly address: HubAddress;
}

/** Reads a request's target (`/path?query`) and where it reached the hub. */
export function hubRequest(
  url: string,
  headers: IncomingHttpHeaders,
  encrypted: boolean,
  settings: { trustProxy: boolean; resourceIdentifier: string | undefined },
): HubRequest {
  const q = url.indexOf('?');
  const rawQuery = q === -1 ? '' : url.slice(q + 1);
  return {
    path: q === -1 ? url : url.slice(0, q),
    rawQuery,
    query: new URLSearchParams(rawQuery),
    address: hubAddress(headers, encrypted, settings),
  };
}
