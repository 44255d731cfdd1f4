/** How the load generator talks to one server under test: where to subscribe, where and how to publish. */
export interface Endpoints {
  /** Always a loopback address. */
  host: string;
  port: number;
  /** Path (and query) of the event stream. */
  subscribePath: string;
  /** Path of the publish endpoint (POST). */
  publishPath: string;
  /** Extra request headers of a publish (authorization, content type). */
  publishHeaders: Record<string, string>;
  /**
   * How the event data goes in the publish body: as is (the peers, nchan), or as the Mercure form
   * `topic=…&data=…` (the hub).
   */
  publishBody: 'raw' | { mercureTopic: string };
  /** HTTP/1.1 (the default), or cleartext HTTP/2 with many subscriber streams per session. */
  protocol?: 'http1' | 'h2c';
}

/** The endpoints of a Mercure hub at `url` (on this machine), subscribing and publishing to `topic` with `token`. */
export function mercureEndpoints(url: URL, topic: string, token: string): Endpoints {
  return {
    host: url.hostname === 'localhost' ? '127.0.0.1' : url.hostname.replace(/^\[|\]$/g, ''),
    port: Number(url.port || 80),
    subscribePath: `${url.pathname}?topic=${encodeURIComponent(topic)}`,
    publishPath: url.pathname,
    publishHeaders: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    publishBody: { mercureTopic: topic },
  };
}

/** Whether a URL's host name is this machine (a loopback address). */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '[::1]' || host === '::1' || /^127\./.test(host);
}
