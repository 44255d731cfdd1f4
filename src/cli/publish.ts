import { createToken } from '../hub/index.js';
import { type Command, UsageError } from './command.js';
import { parseFlags, readKey } from './flags.js';

const help = `Usage: siar publish --topic <topic> [options]

Publishes an update to a Mercure hub and prints its ID.

Options:
  -t, --topic <topic>   the update's topic (repeatable: the first is canonical, the others alternates)
  -d, --data <data>     the update's data; - reads standard input
      --id <id>         the update's ID (default: the hub makes one)
      --type <type>     the SSE event type
      --retry <ms>      the SSE reconnection time
      --private         only subscribers allowed by their token receive it
  -u, --hub <url>       the hub [SIAR_HUB_URL]           default http://localhost:3000/.well-known/mercure
      --token <jwt>     a publisher token [SIAR_TOKEN]
  -k, --key <key>       or the hub's key, to sign a token allowing every topic (HS256; @file reads a file)
                        [SIAR_PUBLISHER_JWT_KEY, MERCURE_PUBLISHER_JWT_KEY]
  -h, --help            show this help

Examples:
  siar publish --topic https://example.com/books/1 --data '{"status":"sold"}' --key "$SECRET"
  echo '{"n":1}' | siar publish -t https://example.com/feed -d - --token "$JWT" --hub https://hub.example.com/.well-known/mercure
  siar publish -t https://example.com/users/ada -d 'for Ada only' --private --id msg-1 --type message --key "$SECRET"
`;

/** What to do about a refusal, by its status. */
function nextStep(status: number): string {
  if (status === 401) return 'Check --token, or that --key is the key the hub was started with.';
  if (status === 403) {
    return "The token's mercure.publish claim must match every --topic: siar token --publish '<topic>' --key <the key> makes one that does.";
  }
  if (status === 413) return 'Send less --data, or start the hub with a larger limit.';
  if (status === 429 || status >= 500) return 'The hub is busy or its store is away: try again in a moment.';
  if (status === 404 || status === 405) return "Is --hub the hub's URL, ending in /.well-known/mercure?";
  return 'Check the options: siar publish --help.';
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags('publish', argv, OPTIONS);
  if (!values.topic || values.topic.length === 0)
    throw new UsageError('siar publish needs at least one --topic.');
  const hub = values.hub ?? process.env.SIAR_HUB_URL ?? 'http://localhost:3000/.well-known/mercure';
  // An empty variable is unset, as for the keys: `SIAR_TOKEN=` must not hide --key.
  let token = values.token ?? (process.env.SIAR_TOKEN || undefined);
  if (token === undefined) {
    const key = readKey(
      values.key ?? process.env.SIAR_PUBLISHER_JWT_KEY ?? process.env.MERCURE_PUBLISHER_JWT_KEY,
      '--key',
    );
    if (key === undefined) {
      throw new UsageError(
        "siar publish needs --token (a publisher JWT) or --key (the hub's secret, to sign one).",
      );
    }
    token = await createToken({ publish: ['*'] }, key, { expiresIn: 60 });
  }
  const body = new URLSearchParams();
  for (const topic of values.topic) body.append('topic', topic);
  body.set('data', values.data === '-' ? await readStdin() : (values.data ?? ''));
  if (values.id !== undefined) body.set('id', values.id);
  if (values.type !== undefined) body.set('type', values.type);
  if (values.retry !== undefined) body.set('retry', values.retry);
  if (values.private) body.set('private', 'on');
  let response: Response;
  try {
    response = await fetch(hub, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body });
  } catch (error) {
    const cause = (error as Error & { cause?: Error }).cause?.message ?? (error as Error).message;
    throw new UsageError(
      `Cannot reach the hub at ${hub} (${cause}). Is it running? Set the URL with --hub.`,
      1,
    );
  }
  const text = (await response.text()).trim();
  if (!response.ok) {
    throw new UsageError(
      `The hub refused the update: ${response.status} ${text}\n${nextStep(response.status)}`,
      1,
    );
  }
  process.stdout.write(`${text}\n`);
  return 0;
}

const OPTIONS = {
  topic: { type: 'string', short: 't', multiple: true },
  data: { type: 'string', short: 'd' },
  id: { type: 'string' },
  type: { type: 'string' },
  retry: { type: 'string' },
  private: { type: 'boolean' },
  hub: { type: 'string', short: 'u' },
  token: { type: 'string' },
  key: { type: 'string', short: 'k' },
} as const;

export const command: Command = { summary: 'publish an update to a hub', help, run };
