import { ClientError, subscribe } from '../client/index.js';
import { encode, type ParsedEvent } from '../protocol/index.js';
import { defineCommand } from './command.js';
import { defineFlags, type FlagValues, flagMistake } from './flags.js';

const FORMATS = ['pretty', 'json', 'raw'] as const;
type Format = (typeof FORMATS)[number];

const FLAGS = defineFlags({
  format: {
    kind: 'string',
    short: 'f',
    value: '<format>',
    choices: FORMATS,
    defaultText: 'pretty when stdout is a terminal, json otherwise',
    help: `pretty: one block per event (coloured on a terminal, unless NO_COLOR)
json:   one {"type","data","lastEventId"} object per line
raw:    the events re-encoded as text/event-stream`,
  },
  header: { kind: 'list', short: 'H', value: '<Name: value>', help: 'send this request header (repeatable)' },
  'last-event-id': {
    kind: 'string',
    value: '<id>',
    help: 'resume after this event ID (sent as Last-Event-ID)',
  },
  topic: {
    kind: 'list',
    short: 't',
    value: '<topic>',
    help: "add a topic=<topic> query parameter: a Mercure hub's draft-07 selector (exact, URI template or *) (repeatable)",
  },
  match: {
    kind: 'list',
    short: 'm',
    value: '<topic>',
    help: 'add a match=<topic> query parameter: a Mercure 1.0 (draft-08) exact topic, or * (repeatable)',
  },
  'match-urlpattern': {
    kind: 'list',
    value: '<pattern>',
    help: 'add a match_urlpattern=<pattern> query parameter: a Mercure 1.0 URL Pattern (repeatable)',
  },
  count: { kind: 'string', short: 'n', value: '<N>', help: 'exit after N events' },
  timeout: { kind: 'string', value: '<seconds>', help: 'exit after this many seconds (fractions allowed)' },
  reconnect: { kind: 'boolean', default: true, help: 'exit when the stream ends or the connection fails' },
});

interface Settings {
  url: URL;
  format: Format;
  headers: Record<string, string>;
  lastEventId: string | undefined;
  count: number | undefined;
  timeoutMs: number | undefined;
  reconnect: boolean;
}

const usageError = (message: string) => flagMistake('subscribe', message);

function settings(values: FlagValues<typeof FLAGS>, positionals: string[]): Settings {
  if (positionals.length !== 1) {
    throw usageError(
      positionals.length === 0 ? 'subscribe needs the URL of an event stream.' : 'subscribe takes one URL.',
    );
  }
  let url: URL;
  try {
    url = new URL(positionals[0] as string);
  } catch {
    throw usageError(
      `"${positionals[0]}" is not a URL; give a full one, such as http://localhost:3000/events.`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw usageError(`"${url.href}" is not an http: or https: URL.`);
  }
  for (const topic of values.topic ?? []) url.searchParams.append('topic', topic);
  for (const topic of values.match ?? []) url.searchParams.append('match', topic);
  for (const pattern of values['match-urlpattern'] ?? [])
    url.searchParams.append('match_urlpattern', pattern);

  const headers: Record<string, string> = {};
  for (const header of values.header ?? []) {
    const colon = header.indexOf(':');
    const name = header.slice(0, colon).trim();
    if (colon === -1 || name === '') {
      throw usageError(
        `--header takes "Name: value", such as 'Authorization: Bearer TOKEN'; got "${header}".`,
      );
    }
    headers[name] = header.slice(colon + 1).trim();
  }

  let count: number | undefined;
  if (values.count !== undefined) {
    count = Number(values.count);
    if (!Number.isInteger(count) || count < 1) {
      throw usageError(`--count takes a whole number of events, 1 or more; got "${values.count}".`);
    }
  }
  let timeoutMs: number | undefined;
  if (values.timeout !== undefined) {
    const seconds = Number(values.timeout);
    if (values.timeout.trim() === '' || !Number.isFinite(seconds) || seconds <= 0) {
      throw usageError(`--timeout takes a number of seconds, more than 0; got "${values.timeout}".`);
    }
    timeoutMs = Math.round(seconds * 1000);
  }
  return {
    url,
    format: values.format ?? (process.stdout.isTTY ? 'pretty' : 'json'),
    headers,
    lastEventId: values['last-event-id'],
    count,
    timeoutMs,
    reconnect: values.reconnect,
  };
}

/** Turns events into text for stdout, in one of the three formats. */
function formatter(format: Format, color: boolean, startId: string): (event: ParsedEvent) => string {
  const paint = (code: string, text: string) => (color ? `\x1b[${code}m${text}\x1b[0m` : text);
  if (format === 'json') {
    return ({ type, data, lastEventId }) => `${JSON.stringify({ type, data, lastEventId })}\n`;
  }
  if (format === 'raw') {
    // An event carries the last event ID, not its own `id:` line: one is written whenever it changes,
    // so parsing the output gives back the same events.
    let lastId = startId;
    return ({ type, data, lastEventId }) => {
      const id = lastEventId === lastId ? undefined : lastEventId;
      lastId = lastEventId;
      return encode({
        ...(type === 'message' ? {} : { event: type }),
        ...(id === undefined ? {} : { id }),
        data,
      });
    };
  }
  return ({ type, data, lastEventId }) => {
    const head =
      lastEventId === '' ? paint('1;36', type) : `${paint('1;36', type)} ${paint('2', `id: ${lastEventId}`)}`;
    return `${head}\n${data.replace(/^/gm, '  ')}\n\n`;
  };
}

/** A next step for each way a subscription can fail. */
function hint(error: ClientError, url: URL): string {
  if (error.code === 'http-status') {
    if (error.status === 401 || error.status === 403) {
      return "Check the credentials: pass a token with --header 'Authorization: Bearer TOKEN' (a Mercure hub also reads it from the cookie: --header 'Cookie: __Secure-mercure_access_token=TOKEN', or mercureAuthorization for a draft-07 token).";
    }
    if (error.status === 404) {
      return 'Check the URL (a Mercure hub subscribes at /.well-known/mercure?match=…).';
    }
    const selectors = ['topic', 'match', 'match_urlpattern'];
    if (
      error.status === 400 &&
      url.pathname.endsWith('/.well-known/mercure') &&
      !selectors.some((name) => url.searchParams.has(name))
    ) {
      return 'A Mercure hub needs at least one selector: add --match <topic>, --match-urlpattern <pattern> or --topic <topic>.';
    }
    return '';
  }
  if (error.code === 'bad-content-type') {
    return 'This URL does not serve server-sent events; check the URL.';
  }
  if (error.code === 'network') {
    return 'Is the server running, and the URL right? Without --no-reconnect, siar keeps retrying.';
  }
  return '';
}

async function run(settings: Settings): Promise<number> {
  const { stdout, stderr } = process;
  const notice = (text: string) => stderr.write(`siar: ${text}\n`);
  const format = formatter(
    settings.format,
    Boolean(stdout.isTTY) && !process.env.NO_COLOR,
    settings.lastEventId ?? '',
  );

  const controller = new AbortController();
  let timedOut = false;
  let stdoutClosed = false;
  const timer =
    settings.timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true;
          controller.abort();
        }, settings.timeoutMs);
  // A reader that goes away (`siar subscribe … | head -n 3`) is a normal end, not a crash.
  const onStdoutError = (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    stdoutClosed = true;
    controller.abort();
  };
  stdout.on('error', onStdoutError);

  let connected = false;
  let received = 0;
  // The latest error (for the last word if it never connects), and the one the next reconnection is for.
  let lastError: ClientError | undefined;
  let retryingAfter: ClientError | undefined;
  const subscription = subscribe(settings.url, {
    headers: settings.headers,
    signal: controller.signal,
    reconnect: settings.reconnect ? {} : false,
    ...(settings.lastEventId === undefined ? {} : { lastEventId: settings.lastEventId }),
    onOpen: () => {
      connected = true;
      retryingAfter = undefined;
      notice(`connected to ${settings.url.href}`);
    },
    onError: (error) => {
      lastError = error;
      retryingAfter = error;
    },
    onRetry: ({ delayMs }) => {
      const why = retryingAfter ? retryingAfter.message.replace(/\.$/, '') : 'the server ended the stream';
      notice(`${why}; reconnecting in ${(delayMs / 1000).toFixed(1)} s`);
      retryingAfter = undefined;
    },
  });

  try {
    for await (const event of subscription) {
      if (!stdout.write(format(event))) await new Promise((resolve) => stdout.once('drain', resolve));
      received++;
      if (received === settings.count) return 0;
    }
    return 0;
  } catch (error) {
    if (stdoutClosed) return 0;
    if (timedOut) {
      if (!connected) {
        notice(
          `no connection to ${settings.url.href} within --timeout${lastError ? `: ${lastError.message}` : ''}`,
        );
        return 1;
      }
      if (settings.count !== undefined && received < settings.count) {
        notice(`--timeout passed after ${received} of ${settings.count} events`);
        return 1;
      }
      return 0;
    }
    if (error instanceof ClientError) {
      const next = hint(error, settings.url);
      notice(next === '' ? error.message : `${error.message}\n${next}`);
      return 1;
    }
    throw error;
  } finally {
    clearTimeout(timer);
    stdout.off('error', onStdoutError);
  }
}

export const command = defineCommand({
  name: 'subscribe',
  usage: '<url> [options]',
  about: `Connects to an event stream and prints each event as it arrives. When the stream ends or the
connection drops it reconnects, resuming with Last-Event-ID, until --count or --timeout stops it.
Connection notices and errors go to stderr; stdout holds only events.`,
  flags: FLAGS,
  positionals: true,
  more: `Exit status:
  0  --count events arrived, --timeout passed, or the stream ended (with --no-reconnect)
  1  the server refused (an HTTP error status, or not text/event-stream); the connection failed
     (with --no-reconnect); --timeout passed before any connection succeeded, or before --count events
  2  a usage error

Examples:
  siar subscribe http://localhost:3000/.well-known/mercure --match https://example.com/books/1
  siar subscribe http://localhost:3000/.well-known/mercure --match-urlpattern 'https://example.com/books/:id'
  siar subscribe http://localhost:3000/.well-known/mercure --topic 'https://example.com/books/{id}'
  siar subscribe https://api.example.com/events -H 'Authorization: Bearer TOKEN' --count 10
  siar subscribe http://localhost:3000/events --format json | jq .data
`,
  run: (values, positionals) => run(settings(values, positionals)),
});
