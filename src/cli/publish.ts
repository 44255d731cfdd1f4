import { createToken } from '../hub/index.js';
import { defineCommand } from './command.js';
import { defineFlags } from './flags.js';
import { UsageError } from './usage-error.js';

const FLAGS = defineFlags({
  topic: {
    kind: 'list',
    short: 't',
    value: '<topic>',
    help: "the update's topic (repeatable: the first is canonical, the others alternates)",
  },
  data: { kind: 'string', short: 'd', value: '<data>', help: "the update's data; - reads standard input" },
  id: { kind: 'string', value: '<id>', defaultText: 'the hub makes one', help: "the update's ID" },
  type: { kind: 'string', value: '<type>', help: 'the SSE event type' },
  retry: { kind: 'string', value: '<ms>', help: 'the SSE reconnection time' },
  private: { kind: 'boolean', help: 'only subscribers allowed by their token receive it' },
  hub: {
    kind: 'string',
    short: 'u',
    value: '<url>',
    env: ['SIAR_HUB_URL'],
    default: 'http://localhost:3000/.well-known/mercure',
    help: 'the hub',
  },
  token: { kind: 'string', value: '<jwt>', env: ['SIAR_TOKEN'], help: 'a publisher token' },
  key: {
    kind: 'key',
    short: 'k',
    value: '<key>',
    env: ['SIAR_PUBLISHER_JWT_KEY', 'MERCURE_PUBLISHER_JWT_KEY'],
    help: "or the hub's key, to sign a token allowing every topic (HS256; @file reads a file)",
  },
});

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

export const command = defineCommand({
  name: 'publish',
  usage: '--topic <topic> [options]',
  about: 'Publishes an update to a Mercure hub and prints its ID.',
  flags: FLAGS,
  more: `Examples:
  siar publish --topic https://example.com/books/1 --data '{"status":"sold"}' --key "$SECRET"
  echo '{"n":1}' | siar publish -t https://example.com/feed -d - --token "$JWT" --hub https://hub.example.com/.well-known/mercure
  siar publish -t https://example.com/users/ada -d 'for Ada only' --private --id msg-1 --type message --key "$SECRET"
`,
  async run(values) {
    if (!values.topic || values.topic.length === 0)
      throw new UsageError('siar publish needs at least one --topic.');
    const { hub, key } = values;
    let token = values.token;
    if (token === undefined) {
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
  },
});
