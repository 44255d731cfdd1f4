/** The Node.js modules of the HTTP/2 transport (only their types are imported: see {@link nodeModules}). */
export interface NodeModules {
  crypto: typeof import('node:crypto');
  events: typeof import('node:events');
  http: typeof import('node:http');
  http2: typeof import('node:http2');
  https: typeof import('node:https');
  net: typeof import('node:net');
  tls: typeof import('node:tls');
}

const NAMES = ['crypto', 'events', 'http', 'http2', 'https', 'net', 'tls'] as const;

let loaded: Promise<NodeModules> | undefined;

/**
 * The Node.js modules, loaded by the first request that needs them. siar/client also runs in browsers
 * (siar/react bundles it), which never use this transport: loading the modules here, by a specifier
 * bundlers leave alone, keeps every Node.js built-in out of a browser bundle.
 */
export function nodeModules(): Promise<NodeModules> {
  loaded ??= Promise.all(
    NAMES.map((name) => {
      const specifier = `node:${name}`;
      return import(/* @vite-ignore */ /* webpackIgnore: true */ specifier);
    }),
  ).then((modules) => Object.fromEntries(NAMES.map((name, i) => [name, modules[i]])) as NodeModules);
  return loaded;
}

/** True in Node.js (and runtimes with its modules), where the HTTP/2 transport can run. */
export function inNode(): boolean {
  return typeof process === 'object' && typeof process.versions?.node === 'string';
}
