// The dashboard: the hub's own figures, pushed once a second over the hub's own SSE stream.
import { useEffect, useReducer, useState } from 'preact/hooks';
import { DASHBOARD_TOPIC, type DashboardFigures } from '../../../src/hub/dashboard-figures.js';
import { useEventSource } from '../../../src/react/use-event-source.js';
import { LineChart } from './chart.js';
import { count, duration, millis } from './format.js';
import { addFigures, EMPTY_HISTORY, WINDOW_MS } from './series.js';

const HUB_PATH = '/.well-known/mercure';
/** How long an open connection may bring nothing before the page says why that may be. */
const NO_FIGURES_AFTER_MS = 3000;

/** The subscription URL: the token given as `?token=` goes on as `authorization` (an EventSource sends no headers). */
function streamUrl(token: string | null): string {
  const url = new URL(HUB_PATH, location.href);
  url.searchParams.set('topic', DASHBOARD_TOPIC);
  if (token) url.searchParams.set('authorization', token);
  return url.href;
}

const TOKEN_COMMAND = `siar token --subscribe '${DASHBOARD_TOPIC}' --key "$KEY"`;

function Help() {
  return (
    <p class="help">
      Open this page as <code>/dashboard?token=&lt;JWT&gt;</code> with a subscriber token whose{' '}
      <code>mercure.subscribe</code> claim matches <code>{DASHBOARD_TOPIC}</code> (or set it as the{' '}
      <code>mercureAuthorization</code> cookie). <code>{TOKEN_COMMAND}</code> prints one;{' '}
      <code>siar serve</code> without a key prints a link with one.
    </p>
  );
}

/** Asks the hub once more with fetch, which (unlike EventSource) can read why it refused. */
function useRefusal(url: string, refused: boolean): string | null {
  const [reason, setReason] = useState<string | null>(null);
  useEffect(() => {
    if (!refused) return;
    const controller = new AbortController();
    setReason('');
    fetch(url, { signal: controller.signal }).then(
      async (response) => {
        if (response.ok) {
          controller.abort();
          setReason('The connection failed, though the hub now accepts it: reload the page.');
        } else {
          setReason(`${response.status} ${(await response.text()).trim()}`);
        }
      },
      () => {
        if (!controller.signal.aborted) setReason('The hub could not be reached.');
      },
    );
    return () => controller.abort();
  }, [url, refused]);
  return refused ? reason : null;
}

function Stat({ id, label, value, detail }: { id: string; label: string; value: string; detail?: string }) {
  return (
    <div class="stat" id={id}>
      <span class="label">{label}</span>
      <span class="value">{value}</span>
      <span class="detail">{detail ?? ' '}</span>
    </div>
  );
}

function rateText(value: number | null | undefined, unit: string): string {
  return value === null || value === undefined
    ? `– ${unit}`
    : `${value < 100 ? value.toFixed(1) : count(value)} ${unit}`;
}

function Figures({ figures, history }: { figures: DashboardFigures; history: typeof EMPTY_HISTORY }) {
  const { points } = history;
  const times = points.map((point) => point.time);
  const latest = points.at(-1);
  const latency = history.lastLatency;
  const chart = { times, now: figures.time, windowMs: WINDOW_MS };
  const topCount = figures.topSelectors[0]?.subscribers ?? 1;
  return (
    <>
      <section class="stats" aria-label="Now">
        <Stat
          id="stat-subscribers"
          label="Subscribers"
          value={count(figures.subscribers)}
          detail={`${count(figures.subscribersTotal)} since start`}
        />
        <Stat
          id="stat-published"
          label="Updates published"
          value={count(figures.updatesPublished)}
          detail={rateText(latest?.publishedPerSecond, 'per second')}
        />
        <Stat
          id="stat-deliveries"
          label="Deliveries"
          value={count(figures.deliveries)}
          detail={rateText(latest?.deliveriesPerSecond, 'per second')}
        />
        <Stat
          id="stat-latency"
          label="Latency, p50"
          value={latency ? millis(latency.latency.p50) : '–'}
          detail={
            latency
              ? `p99 ${millis(latency.latency.p99)} · max ${millis(latency.latency.max)} · ${count(latency.latency.count)} updates, ${
                  latency.time === figures.time
                    ? 'last second'
                    : `${duration(figures.time - latency.time)} ago`
                }`
              : 'no publish measured yet'
          }
        />
        <Stat
          id="stat-slow"
          label="Slow consumers closed"
          value={count(figures.slowConsumersClosed)}
          detail="dropped, then replayed on reconnect"
        />
        <Stat
          id="stat-history"
          label="History"
          value={count(figures.historySize)}
          detail="updates kept for replay"
        />
      </section>

      <section class="charts" aria-label="The last minutes">
        <LineChart
          id="chart-updates"
          title="Updates per second"
          unit="/s"
          {...chart}
          series={[
            {
              label: 'published',
              color: 'var(--accent)',
              values: points.map((point) => point.publishedPerSecond),
            },
            {
              label: 'dispatched',
              color: 'var(--named)',
              values: points.map((point) => point.dispatchedPerSecond),
            },
          ]}
        />
        <LineChart
          id="chart-deliveries"
          title="Deliveries per second"
          unit="/s"
          {...chart}
          series={[
            {
              label: 'deliveries',
              color: 'var(--ok)',
              values: points.map((point) => point.deliveriesPerSecond),
            },
          ]}
        />
        <LineChart
          id="chart-subscribers"
          title="Subscribers"
          unit=""
          {...chart}
          series={[
            { label: 'connected', color: 'var(--accent)', values: points.map((point) => point.subscribers) },
          ]}
        />
        <LineChart
          id="chart-latency"
          title="Publish → dispatch latency"
          unit="ms"
          {...chart}
          series={[
            { label: 'p50', color: 'var(--ok)', values: points.map((point) => point.latencyP50) },
            { label: 'p99', color: 'var(--warn)', values: points.map((point) => point.latencyP99) },
          ]}
        />
      </section>

      <section class="tables">
        <div class="panel">
          <h2>Top topics</h2>
          {figures.topSelectors.length === 0 ? (
            <p class="muted">No subscriptions.</p>
          ) : (
            <table id="top-topics">
              <thead>
                <tr>
                  <th>Selector</th>
                  <th class="num">Subscribers</th>
                </tr>
              </thead>
              <tbody>
                {figures.topSelectors.map(({ selector, subscribers }) => (
                  <tr key={selector} data-selector={selector}>
                    <td>
                      <code>{selector}</code>
                      <span class="bar" style={{ width: `${(subscribers / topCount) * 100}%` }} />
                    </td>
                    <td class="num">{count(subscribers)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
        <div class="panel">
          <h2>Store</h2>
          <p id="store" class={figures.store.ok ? 'ok' : 'bad'}>
            <span class="dot" /> {figures.store.kind}:{' '}
            {figures.store.ok
              ? 'healthy'
              : `failing${figures.store.detail ? ` (${figures.store.detail})` : ''}`}
          </p>
          {figures.nodes === null ? (
            <p class="muted">One process: no other nodes.</p>
          ) : (
            <table id="nodes">
              <thead>
                <tr>
                  <th>Node</th>
                  <th
                    class="num"
                    title="Listed only when the hub serves the subscriptions API (--subscriptions)"
                  >
                    Subscriptions listed
                  </th>
                </tr>
              </thead>
              <tbody>
                {figures.nodes.map((node) => (
                  <tr key={node.id} class={node.self ? 'self' : ''}>
                    <td>
                      <code>{node.id}</code> {node.self ? <span class="tag">this node</span> : null}
                    </td>
                    <td class="num">{count(node.subscriptions)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      </section>
    </>
  );
}

export function App() {
  const [token] = useState(() => new URLSearchParams(location.search).get('token'));
  const url = streamUrl(token);
  const [history, add] = useReducer(addFigures, EMPTY_HISTORY);
  const { readyState, error } = useEventSource(url, {
    onEvent: (event) => {
      try {
        add(JSON.parse(event.data) as DashboardFigures);
      } catch {
        // Not the hub's figures (someone published on the reserved topic): ignored.
      }
    },
  });
  const refusal = useRefusal(url, readyState === 2 && error !== null);
  const [silent, setSilent] = useState(false);
  const waiting = readyState === 1 && history.last === null;
  useEffect(() => {
    setSilent(false);
    if (!waiting) return;
    const timer = setTimeout(() => setSilent(true), NO_FIGURES_AFTER_MS);
    return () => clearTimeout(timer);
  }, [waiting]);
  useEffect(() => {
    document.body.dataset.figures = String(history.received);
  }, [history.received]);

  const figures = history.last;
  const state =
    refusal !== null
      ? 'refused'
      : readyState === 1
        ? figures
          ? 'live'
          : 'waiting'
        : readyState === 0
          ? 'connecting'
          : 'closed';
  const label = {
    refused: 'refused',
    live: 'live',
    waiting: 'connected, waiting for figures',
    connecting: 'connecting…',
    closed: 'closed',
  }[state];
  return (
    <>
      <header>
        <div>
          <h1>
            Siar <span>dashboard</span>
          </h1>
          <p class="lead">
            This hub's figures, sent once a second over its own event stream on <code>{DASHBOARD_TOPIC}</code>
            .
          </p>
        </div>
        <div class="meta">
          <span id="connection" class={`status ${state}`} role="status">
            {label}
          </span>
          {figures ? <span id="uptime">up {duration(figures.time - figures.startedAt)}</span> : null}
        </div>
      </header>
      {refusal !== null ? (
        <section class="notice bad" id="refusal">
          <h2>The hub refused the dashboard's figures</h2>
          <p class="reason">{refusal}</p>
          <Help />
        </section>
      ) : null}
      {silent && !figures ? (
        <section class="notice warn" id="no-figures">
          <h2>Connected, but no figures arrive</h2>
          <p>
            The hub sends them as private updates: only a token whose claim matches the dashboard's topic
            receives them
            {token ? ', and this one does not.' : ', and this page has none.'}
          </p>
          <Help />
        </section>
      ) : null}
      {figures ? <Figures figures={figures} history={history} /> : null}
      {!figures && refusal === null && !silent ? (
        <p class="muted loading">Waiting for the hub's first figures…</p>
      ) : null}
    </>
  );
}
