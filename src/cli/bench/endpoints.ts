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
