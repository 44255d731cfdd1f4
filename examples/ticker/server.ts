// Ticker: named events (`event: price`), multi-line data, an `id:` on every event and a `retry:` hint,
// as in the event-stream format of the seed tutorial (`id: 12345`, `data: GOOG`, `data: 556`), and
// resume: when the connection drops, the browser reconnects after `retry` ms with `Last-Event-ID`,
// and the channel's history sends exactly the events it missed, then the live ones: none lost, none
// repeated. The page's "Drop" button (POST /drop) cuts every connection from the server's side.
//
//   npm run example:ticker      then open http://localhost:3005
import { readFile } from 'node:fs/promises';
import { createChannel, createEventStream, refuse } from '../../src/server/index.js';
import { envPort, isMain, pathOf, type Running, sendHtml, serve } from '../serve.js';

export interface TickerOptions {
  port?: number;
  host?: string;
  /** Time between two prices, in ms. Default 1000. */
  intervalMs?: number;
  /** The reconnection delay the browser is told to use (`retry:`), in ms. Default 2000. */
  retryMs?: number;
  /** Prices kept for clients that come back; one older than that gets all that is kept. Default 1000. */
  historySize?: number;
  log?: (line: string) => void;
}

export async function startTicker(options: TickerOptions = {}): Promise<Running> {
  const { port = 3005, host = 'localhost', intervalMs = 1000, retryMs = 2000, historySize = 1000 } = options;
  const log = options.log ?? console.log;
  const page = await readFile(new URL('./index.html', import.meta.url));
  const prices = createChannel({ historySize });

  const quotes = new Map([
    ['GOOG', 556],
    ['AAPL', 190],
    ['MSFT', 410],
  ]);
  const symbols = [...quotes.keys()];
  let id = 0;
  const ticking = setInterval(() => {
    const symbol = symbols[id % symbols.length] as string;
    const price = (quotes.get(symbol) ?? 0) * (1 + (Math.random() - 0.5) / 100);
    quotes.set(symbol, price);
    id++;
    prices.broadcast({ event: 'price', id: String(id), data: `${symbol}\n${price.toFixed(2)}` });
  }, intervalMs);

  const running = await serve(port, host, (req, res) => {
    const path = pathOf(req);
    if (path === '/') return sendHtml(res, page);
    if (path === '/prices') {
      const stream = createEventStream(req, res, { retry: retryMs });
      // What the client missed since its Last-Event-ID (none on a first visit), then live prices.
      const { sent } = prices.replay(stream);
      log(`connected, Last-Event-ID: ${req.headers['last-event-id'] ?? 'none'}, replayed ${sent}`);
      return;
    }
    if (path === '/drop' && req.method === 'POST') {
      const streams = [...prices.streams];
      for (const stream of streams) stream.close();
      log(`dropped ${streams.length} connection(s)`);
      return void res.writeHead(204).end();
    }
    refuse(res, 404, 'Not found: the page is at /, the stream at /prices.');
  });

  return {
    ...running,
    close: async () => {
      clearInterval(ticking);
      await running.close();
    },
  };
}

if (isMain(import.meta.url)) {
  const { url } = await startTicker({ port: envPort('PORT', 3005) });
  console.log(`Ticker: open ${url} (or curl -N ${url}/prices)`);
}
