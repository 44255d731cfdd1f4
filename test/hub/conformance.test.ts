// Both public Mercure conformance suites (dunglas/mercure, conformance-tests/mercure.spec.ts, with
// CUSTOM_ID=1), run in Chromium against ONE `siar serve`, started with the command line README.md gives
// under "Mercure conformance": the suite's publisher key (HS256), the issuer and resource identifier
// of the draft-08 suite's token, anonymous subscribers, the demo page at `/` (the suites open the hub
// origin's `/` and run everything from there). The hub speaks both generations at once:
//
// - draft-07 (the reference hub v0.24's suite, 11 cases): `topic` selectors (exact, URI templates), a
//   token with the `mercure` claim and no `typ`;
// - draft-08 (Mercure 1.0's suite, 10 cases): `match` selectors, or `match_urlpattern` for a selector
//   holding a `:param` (the suite's rule), an RFC 9068 access token (`typ: at+jwt`, `iss`
//   https://localhost, `aud` https://localhost/.well-known/mercure) granting publish and subscribe on
//   `*` through `authorization_details`, byte for byte the suite's.
//
// Each case, as the suites do it: the page opens a native EventSource on the hub with the case's
// selectors, waits for `open`, POSTs one update with `fetch` (form body: the topics, an id, data of
// three lines one of which is empty, `private=on` for the private cases) with the suite's token, and
// expects within 2 s a `message` whose lastEventId and data are the update's; the POST must answer
// 200, text/plain, and the id it was given.
//
// Where a suite shows that an update does NOT arrive by waiting 2 s, this file publishes a second,
// public update (the sentinel) that the subscriber does match, right after the first, and waits for
// it instead: one stream delivers in publish order, so once the sentinel is in, the first update
// would be in too. Same verdict, no fixed wait.
import { type ChildProcess, spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, skipBrowserTests } from '../helpers/browser.js';
import { waitFor } from '../helpers/net.js';
import { fromPage } from '../helpers/page-errors.js';

/** The publisher key the conformance suite's token is signed with. */
const CONFORMANCE_KEY = '!ChangeThisMercureHubJWTSecretKey!';

/** The command line of README.md's "Mercure conformance" section (here on 127.0.0.1, on a free port). */
const SERVE_ARGS = [
  'serve',
  '--publisher-jwt-key',
  CONFORMANCE_KEY,
  '--issuer',
  'https://localhost',
  '--resource-identifier',
  'https://localhost/.well-known/mercure',
  '--anonymous',
  '--demo',
];

/**
 * The draft-07 suite's token, byte for byte: header `{"alg":"HS256"}`, payload
 * `{"mercure":{"publish":["*"],"subscribe":["*"]}}`, no `iat`, no `typ`, signed with the key.
 */
function draft07Token(): string {
  const part = (json: string) => Buffer.from(json).toString('base64url');
  const signed = `${part('{"alg":"HS256"}')}.${part('{"mercure":{"publish":["*"],"subscribe":["*"]}}')}`;
  return `${signed}.${createHmac('sha256', CONFORMANCE_KEY).update(signed).digest('base64url')}`;
}

/** The draft-08 suite's token, byte for byte (an access token of issuer https://localhost, signed with the key). */
const DRAFT08_TOKEN =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6ImF0K2p3dCJ9.eyJhdWQiOiJodHRwczovL2xvY2FsaG9zdC8ud2VsbC1rbm93bi9tZXJjdXJlIiwiaXNzIjoiaHR0cHM6Ly9sb2NhbGhvc3QiLCJhdXRob3JpemF0aW9uX2RldGFpbHMiOlt7InR5cGUiOiJodHRwczovL21lcmN1cmUucm9ja3MvYXV0aG9yaXphdGlvbi1kZXRhaWwiLCJhY3Rpb25zIjpbInB1Ymxpc2giXSwidG9waWNzIjpbeyJtYXRjaCI6IioifV19LHsidHlwZSI6Imh0dHBzOi8vbWVyY3VyZS5yb2Nrcy9hdXRob3JpemF0aW9uLWRldGFpbCIsImFjdGlvbnMiOlsic3Vic2NyaWJlIl0sInRvcGljcyI6W3sibWF0Y2giOiIqIn1dfV0sImV4cCI6NDEwMjQ0NDgwMH0.z_S8IP5WZsCK8h3pcq0PB5zvJE0OdTrGA70khAYJQy4';

const random = () => randomBytes(20).toString('hex');

interface Case {
  name: string;
  /** The selectors of the subscription. */
  selectors: string[];
  /** The `topic` fields of the update. */
  topics: string[];
  private?: true;
  mustBeReceived: boolean;
}

/** One suite: its cases, the query parameter of each selector, its token, and a topic a selector matches. */
interface Suite {
  name: string;
  cases: Case[];
  parameter(selector: string): string;
  token(): string;
  /** A topic the selector matches, for the sentinel. */
  sentinel(selector: string): string;
}

// As in the suite, the private cases reuse the topics of the public ones (and so their ids).
const shared = Array.from({ length: 5 }, random) as [string, string, string, string, string];
const DRAFT07_CASES: Case[] = [
  { name: 'raw string', selectors: [shared[0]], topics: [shared[0]], mustBeReceived: true },
  { name: 'multiple topics', selectors: [shared[1]], topics: [random(), shared[1]], mustBeReceived: true },
  {
    name: 'multiple topic selectors',
    selectors: ['foo', shared[2]],
    topics: [shared[2]],
    mustBeReceived: true,
  },
  {
    name: 'URI',
    selectors: [`https://example.net/foo/${shared[3]}`],
    topics: [`https://example.net/foo/${shared[3]}`],
    mustBeReceived: true,
  },
  {
    name: 'URI template',
    selectors: ['https://example.net/foo/{random}'],
    topics: [`https://example.net/foo/${shared[4]}`],
    mustBeReceived: true,
  },
  // The suite's non-matching topics end with a stray "}"; the hub gets them as they are.
  {
    name: 'nonmatching raw string',
    selectors: ['another-name'],
    topics: ['will-not-match}'],
    mustBeReceived: false,
  },
  {
    name: 'nonmatching URI',
    selectors: ['https://example.net/foo/another-name'],
    topics: ['https://example.net/foo/will-not-match}'],
    mustBeReceived: false,
  },
  {
    name: 'nonmatching URI template',
    selectors: ['https://example.net/bar/{var}'],
    topics: ['https://example.net/foo/will-not-match}'],
    mustBeReceived: false,
  },
  {
    name: 'private raw string',
    selectors: [shared[0]],
    topics: [shared[0]],
    private: true,
    mustBeReceived: false,
  },
  {
    name: 'private URI',
    selectors: [`https://example.net/foo/${shared[3]}`],
    topics: [`https://example.net/foo/${shared[3]}`],
    private: true,
    mustBeReceived: false,
  },
  {
    name: 'private URI template',
    selectors: ['https://example.net/foo/{random}'],
    topics: [`https://example.net/foo/${shared[4]}`],
    private: true,
    mustBeReceived: false,
  },
];

// The draft-08 suite's, in its order; its private cases too reuse the topics of the public ones.
const fresh = Array.from({ length: 6 }, random) as [string, string, string, string, string, string];
const DRAFT08_CASES: Case[] = [
  { name: 'raw string', selectors: [fresh[0]], topics: [fresh[0]], mustBeReceived: true },
  {
    name: 'multiple topic selectors',
    selectors: ['foo', fresh[2]],
    topics: [fresh[2]],
    mustBeReceived: true,
  },
  {
    name: 'URI',
    selectors: [`https://example.net/foo/${fresh[3]}`],
    topics: [`https://example.net/foo/${fresh[3]}`],
    mustBeReceived: true,
  },
  {
    name: 'URL pattern',
    selectors: ['https://example.net/foo/:random'],
    topics: [`https://example.net/foo/${fresh[4]}`],
    mustBeReceived: true,
  },
  {
    name: 'nonmatching raw string',
    selectors: ['another-name'],
    topics: ['will-not-match'],
    mustBeReceived: false,
  },
  {
    name: 'nonmatching URI',
    selectors: ['https://example.net/foo/another-name'],
    topics: ['https://example.net/foo/will-not-match'],
    mustBeReceived: false,
  },
  {
    name: 'nonmatching URL pattern',
    selectors: ['https://example.net/bar/:var'],
    topics: ['https://example.net/foo/will-not-match'],
    mustBeReceived: false,
  },
  {
    name: 'private raw string',
    selectors: [fresh[0]],
    topics: [fresh[0]],
    private: true,
    mustBeReceived: false,
  },
  {
    name: 'private URI',
    selectors: [`https://example.net/foo/${fresh[3]}`],
    topics: [`https://example.net/foo/${fresh[3]}`],
    private: true,
    mustBeReceived: false,
  },
  {
    name: 'private URL pattern',
    selectors: ['https://example.net/foo/:random'],
    topics: [`https://example.net/foo/${fresh[4]}`],
    private: true,
    mustBeReceived: false,
  },
];

const SUITES: Suite[] = [
  {
    name: 'draft-07 suite (the reference hub v0.24)',
    cases: DRAFT07_CASES,
    parameter: () => 'topic',
    token: draft07Token,
    sentinel: (selector) => selector.replace(/\{[^}]*\}/g, `sentinel-${random()}`),
  },
  {
    name: 'draft-08 suite (Mercure 1.0)',
    cases: DRAFT08_CASES,
    // The suite's rule: a selector holding a `:param` placeholder goes through the URL Pattern matcher.
    parameter: (selector) => (/\/:[A-Za-z_]/.test(selector) ? 'match_urlpattern' : 'match'),
    token: () => DRAFT08_TOKEN,
    sentinel: (selector) => selector.replace(/:[A-Za-z_]\w*/g, `sentinel-${random()}`),
  },
];

interface Fields {
  topics: string[];
  id: string;
  data: string;
  private?: boolean;
}

interface Outcome {
  /** Whether the awaited message (the update, or the sentinel) came within the time limit. */
  received: boolean;
  messages: Array<{ type: string; id: string; data: string }>;
  responses: Array<{ status: number; contentType: string | null; body: string }>;
}

/** In the page: subscribe, wait for open, publish each update in turn, wait for the last one. */
async function subscribeAndPublish(args: {
  selectors: Array<[string, string]>;
  updates: Fields[];
  token: string;
  timeoutMs: number;
}): Promise<Outcome> {
  const { selectors, updates, token, timeoutMs } = args;
  const url = new URL('/.well-known/mercure', window.origin);
  for (const [name, selector] of selectors) url.searchParams.append(name, selector);
  const source = new EventSource(url);
  const messages: Outcome['messages'] = [];
  const awaited = updates[updates.length - 1] as Fields;
  let arrived = (_received: boolean) => {};
  const received = new Promise<boolean>((resolve) => {
    arrived = resolve;
  });
  source.onmessage = (event) => {
    messages.push({ type: event.type, id: event.lastEventId, data: event.data });
    if (event.lastEventId === awaited.id && event.data === awaited.data) arrived(true);
  };
  await new Promise((resolve, reject) => {
    source.onopen = resolve;
    source.onerror = () => reject(new Error(`the EventSource on ${url} failed before it opened`));
  });
  const responses: Outcome['responses'] = [];
  for (const update of updates) {
    const body = new URLSearchParams();
    for (const topic of update.topics) body.append('topic', topic);
    body.set('id', update.id);
    body.set('data', update.data);
    if (update.private) body.set('private', 'on');
    const response = await fetch('/.well-known/mercure', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body,
    });
    responses.push({
      status: response.status,
      contentType: response.headers.get('content-type'),
      body: await response.text(),
    });
  }
  const timer = setTimeout(() => arrived(false), timeoutMs);
  const outcome = { received: await received, messages, responses };
  clearTimeout(timer);
  source.close();
  return outcome;
}

describe.skipIf(skipBrowserTests())('Mercure conformance suites, in Chromium, against one siar serve', () => {
  let server: ChildProcess;
  let hubOrigin: string;
  let browser: Browser;
  let context: BrowserContext | undefined;

  beforeAll(async () => {
    // The hub's configuration comes from the command line only.
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([name]) => !/^(SIAR|MERCURE)_|^PORT$/.test(name)),
    );
    server = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', ...SERVE_ARGS, '--host', '127.0.0.1', '--port', '0'],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    server.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    server.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const listening = /Siar hub listening on (http:\/\/127\.0\.0\.1:\d+)\/\.well-known\/mercure/;
    const match = await waitFor<RegExpExecArray | 'exited' | undefined>(
      () => listening.exec(output) ?? (server.exitCode !== null ? 'exited' : undefined),
      15_000,
      'siar serve to listen',
    ).catch((error: Error) => {
      throw new Error(`${error.message}; it printed:\n${output}`);
    });
    if (match === undefined || match === 'exited')
      throw new Error(`siar serve exited with ${server.exitCode}:\n${output}`);
    hubOrigin = match[1] as string;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    if (server && server.exitCode === null) {
      await new Promise((resolve) => server.once('exit', resolve).kill('SIGTERM'));
    }
  });
  afterEach(async () => {
    await context?.close();
    context = undefined;
  });

  async function openHubPage(): Promise<Page> {
    context = await browser.newContext();
    context.setDefaultTimeout(5000);
    const page = await context.newPage();
    const response = await page.goto(`${hubOrigin}/`);
    expect(response?.status()).toBe(200);
    return page;
  }

  for (const suite of SUITES) {
    describe(suite.name, () => {
      for (const testCase of suite.cases) {
        it(testCase.name, async () => {
          const page = await openHubPage();
          const update: Fields = {
            topics: testCase.topics,
            id: `id-${JSON.stringify(testCase.topics)}`,
            data: `data for\n\n        ${testCase.name}`,
            private: testCase.private,
          };
          const sentinel: Fields = {
            topics: [suite.sentinel(testCase.selectors[testCase.selectors.length - 1] as string)],
            id: `sentinel-${random()}`,
            data: 'sentinel',
          };
          const updates = testCase.mustBeReceived ? [update] : [update, sentinel];
          const outcome = await fromPage(
            page.evaluate(subscribeAndPublish, {
              selectors: testCase.selectors.map((selector): [string, string] => [
                suite.parameter(selector),
                selector,
              ]),
              updates,
              token: suite.token(),
              timeoutMs: 2000,
            }),
          );

          for (const [index, response] of outcome.responses.entries()) {
            expect(response.status).toBe(200);
            expect(response.contentType).toMatch(/^text\/plain(?:$|;.*)/);
            expect(response.body).toBe(updates[index]?.id); // the suites' CUSTOM_ID mode
          }
          expect(outcome.received).toBe(true);
          const delivered = testCase.mustBeReceived ? update : sentinel;
          expect(outcome.messages).toEqual([{ type: 'message', id: delivered.id, data: delivered.data }]);
        });
      }
    });
  }
});
