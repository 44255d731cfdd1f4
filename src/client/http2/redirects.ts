import { type Attempt, fetchFailed } from './attempt.js';

/** How a fetch treats a redirect, as `RequestInit.redirect` says. */
export type RedirectMode = 'follow' | 'manual' | 'error';

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** The Fetch standard's limit of redirects one fetch follows. */
export const MAX_REDIRECTS = 20;

/** Headers of a body, dropped when a redirect turns the request into a GET. */
const BODY_HEADERS = [
  'content-type',
  'content-length',
  'content-encoding',
  'content-language',
  'content-location',
];
/** Credentials, dropped when a redirect leaves the origin. */
const CREDENTIAL_HEADERS = ['authorization', 'proxy-authorization', 'cookie'];

/** Whether `response` is a redirect the fetch follows (or refuses, in mode `"error"`) rather than its answer. */
export function isFollowed(response: Response, mode: RedirectMode): boolean {
  return mode !== 'manual' && REDIRECT_STATUSES.has(response.status) && response.headers.has('location');
}

/**
 * The request redirect number `count` (0 for the first) leads to, as the Fetch standard makes it: a
 * 303 (or a 301/302 after a POST) becomes a GET without its body, and credentials do not go to
 * another origin. Throws a "fetch failed" TypeError in mode `"error"` and past {@link MAX_REDIRECTS}.
 */
export function redirectedAttempt(
  attempt: Attempt,
  response: Response,
  mode: RedirectMode,
  count: number,
): Attempt {
  const { url } = attempt;
  if (mode === 'error') throw fetchFailed(`${url.href} redirected, and redirect is "error"`);
  if (count === MAX_REDIRECTS) throw fetchFailed(`more than ${MAX_REDIRECTS} redirects from ${url.href}`);
  const next = new URL(response.headers.get('location') ?? '', url);
  const headers = { ...attempt.headers };
  let { method, body } = attempt;
  const { status } = response;
  if (
    (status === 303 && method !== 'GET' && method !== 'HEAD') ||
    ((status === 301 || status === 302) && method === 'POST')
  ) {
    method = 'GET';
    body = undefined;
    for (const name of BODY_HEADERS) delete headers[name];
  }
  if (next.origin !== url.origin) for (const name of CREDENTIAL_HEADERS) delete headers[name];
  return { url: next, method, headers, body, signal: attempt.signal, redirected: true };
}
