import type { Fetch } from '../client/types.js';

/**
 * In a page, its own `fetch` called as a plain function: a browser's `fetch` throws "Illegal
 * invocation" when called as a method of another object (as siar/client keeps it), and it is the
 * page's fetch that sends its cookies and applies its CORS. Outside a page (Node.js), undefined:
 * siar/client's own default.
 */
export function pageFetch(): Fetch | undefined {
  if (typeof document === 'undefined' || typeof globalThis.fetch !== 'function') return undefined;
  return (url, init) => globalThis.fetch(url, init);
}
