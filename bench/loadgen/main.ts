/**
 * The load generator: a process of its own (so its CPU is measured apart from the orchestrator's
 * and the servers'), driven over Node IPC. It runs one scripted scenario at a time against the
 * endpoints it is given, on loopback only, and exits when the orchestrator goes away.
 */
import type { FromLoadgen, ToLoadgen } from './messages.js';
import { type Leftovers, runScript } from './scripts.js';

function send(message: FromLoadgen): void {
  process.send?.(message);
}

let marked: (() => void) | undefined;
let leftovers: Leftovers | undefined;

function reset(): void {
  leftovers?.closeAll();
  leftovers = undefined;
}

function mark(name: string): Promise<void> {
  return new Promise((resolve) => {
    marked = resolve;
    send({ type: 'mark', name });
  });
}

process.on('message', (message: ToLoadgen) => {
  if (message.type === 'marked') {
    const resume = marked;
    marked = undefined;
    resume?.();
    return;
  }
  if (message.type === 'reset') {
    reset();
    send({ type: 'reset-done' });
    return;
  }
  reset();
  if (message.endpoints.host !== '127.0.0.1') {
    send({ type: 'failed', message: 'the load generator works on loopback only' });
    return;
  }
  runScript(message.params, message.endpoints, mark, (run) => {
    leftovers = run;
  }).then(
    (result) => send({ type: 'result', result }),
    (error: unknown) => send({ type: 'failed', message: (error as Error).stack ?? String(error) }),
  );
});

// Bounded: without its orchestrator it has nothing to do.
process.on('disconnect', () => process.exit(0));
send({ type: 'ready' });
