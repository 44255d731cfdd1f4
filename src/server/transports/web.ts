import type { Frame } from '../frame.js';
import type { CloseListener, Transport } from './transport.js';

/**
 * An event stream over a Web `ReadableStream`, for `Response`-based servers (Hono, Bun, Deno,
 * Next.js route handlers). The queue is measured in bytes: past `highWaterMark`, `write` returns false.
 */
export function openWebStream(
  highWaterMark: number,
  signal: AbortSignal | undefined,
  completed: PromiseLike<unknown> | undefined,
  onClose: CloseListener,
): { transport: Transport; body: ReadableStream<Uint8Array> } {
  const transport = new WebTransport(highWaterMark, onClose);
  const body = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        transport.controller = controller;
      },
      pull(controller) {
        // Called whenever the queue has room; 'drained' means empty, as a Node.js stream's 'drain' does.
        if ((controller.desiredSize ?? 0) >= highWaterMark) transport.drained();
      },
      cancel() {
        transport.closedByPeer();
      },
    },
    new ByteLengthQueuingStrategy({ highWaterMark }),
  );
  if (signal) {
    if (signal.aborted) queueMicrotask(() => transport.closedByPeer());
    else signal.addEventListener('abort', () => transport.closedByPeer(), { once: true });
  }
  if (completed) {
    const finished = () => transport.closedByPeer();
    completed.then(finished, finished);
  }
  return { transport, body };
}

class WebTransport implements Transport {
  controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  private open = true;
  private drainListeners: Array<() => void> = [];

  constructor(
    private readonly highWaterMark: number,
    private readonly onClose: CloseListener,
  ) {}

  write(frame: Frame): boolean {
    if (!this.open || !this.controller) return false;
    // The same Buffer may go to many streams: a default (not byte) ReadableStream never detaches it.
    this.controller.enqueue(frame.bytes);
    return (this.controller.desiredSize ?? 0) > 0;
  }

  get bufferedBytes(): number {
    if (!this.open || !this.controller) return 0;
    return this.highWaterMark - (this.controller.desiredSize ?? 0);
  }

  end(): void {
    if (!this.open) return;
    this.controller?.close();
    this.closedByPeer();
  }

  destroy(): void {
    if (!this.open) return;
    this.controller?.error(new Error('The event stream was closed.'));
    this.closedByPeer();
  }

  onceDrain(listener: () => void): void {
    if (!this.open) queueMicrotask(listener);
    else this.drainListeners.push(listener);
  }

  drained(): void {
    const listeners = this.drainListeners;
    this.drainListeners = [];
    for (const listener of listeners) listener();
  }

  closedByPeer(): void {
    if (!this.open) return;
    this.open = false;
    this.drained();
    this.onClose();
  }
}
