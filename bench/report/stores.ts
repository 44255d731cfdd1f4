/** (f): the hub with each store, side by side, from the runs of (a), (d) and (e). */
import { STORE_SCENARIOS, STORE_SERVERS } from '../lib/scenarios.js';
import type { ServerName } from '../servers/index.js';
import { number, rate, table, us } from './format.js';
import { outcome, type ReportInput, rowOf, value } from './outcomes.js';

/** What the table calls each store. */
const STORE_LABELS: Partial<Record<ServerName, string>> = {
  hub: 'memory',
  'hub-sqlite': 'SQLite',
  'hub-redis': 'Redis',
  'hub-postgres': 'PostgreSQL',
  'hub-nats': 'NATS',
};

export function storesSection(input: ReportInput): string {
  const present = STORE_SERVERS.filter((store) => STORE_SCENARIOS.some((name) => rowOf(input, name, store)));
  if (present.length < 2) return '';
  const publish = outcome(input, 'publish')?.scenario.params;
  const most = publish?.kind === 'publish' ? (publish.publishers[publish.publishers.length - 1] ?? 8) : 8;
  const memoryRate = value(input, 'fanout', 'hub', 'deliveriesPerSec');
  const body = present.map((store) => {
    const a = (name: string) => value(input, 'fanout', store, name);
    const d = (name: string) => value(input, 'publish', store, name);
    const storeRate = a('deliveriesPerSec');
    return [
      STORE_LABELS[store] ?? store,
      rate(a('deliveriesPerSec')),
      memoryRate && storeRate ? `${number(storeRate / memoryRate, 2)}x` : '–',
      us(a('serverCpuUsPerDelivery')),
      us(a('storeCpuUsPerDelivery')),
      rate(d('s0p1.updatesPerSec')),
      rate(d(`s0p${most}.updatesPerSec`)),
      us(d(`s0p${most}.serverCpuUsPerUpdate`)),
      us(d(`s0p${most}.storeCpuUsPerUpdate`)),
      number((value(input, 'reconnect', store, 'stormMs') ?? Number.NaN) / 1000, 2),
    ];
  });
  const missing = STORE_SERVERS.filter((store) => !present.includes(store)).map(
    (store) => `${store}: ${input.skipped.get(store) ?? 'not run'}`,
  );
  return `## (f) Stores

The hub with each store, from the runs of (a), (d) and (e) above. "Engine CPU" is the CPU time of the store's
engine, measured apart (it is not in the hub's process tree): the whole Redis or NATS server (one process each), and
for PostgreSQL the backends serving the hub's connections (its WAL writer and checkpointer, shared, are left out).

${table(
  [
    'store',
    '(a) deliveries/s',
    'ratio to memory',
    '(a) hub CPU µs/delivery',
    '(a) engine CPU µs/delivery',
    '(d) updates/s, 1 publisher',
    `(d) updates/s, ${most} publishers`,
    '(d) hub CPU µs/update',
    '(d) engine CPU µs/update',
    '(e) all replayed in, s',
  ],
  body,
)}
${missing.length > 0 ? `\nNot run: ${missing.join('; ')}.\n` : ''}`;
}
