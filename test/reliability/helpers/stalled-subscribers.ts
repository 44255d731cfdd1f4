/**
 * A child process that opens `count` subscriptions to a hub and never reads a byte of them (its
 * sockets are paused), as a crowd of stalled clients would: `node --import tsx stalled-subscribers.ts
 * <port> <count> <path>`. Prints "connected <n>" once every request is written, "closed <n>" as the
 * hub drops them (every 100), and keeps them until it is killed. Run in its own process, under a
 * raised descriptor limit, so that the test process needs no more descriptors than usual.
 */
import { connect, type Socket } from 'node:net';

const [port, count, path] = process.argv.slice(2);
const sockets: Socket[] = [];
let closed = 0;
let connected = 0;
for (let i = 0; i < Number(count); i++) {
  const socket = connect({ port: Number(port), host: '127.0.0.1' });
  socket.on('error', () => {});
  socket.on('close', () => {
    closed++;
    if (closed % 100 === 0 || closed === Number(count)) process.stdout.write(`closed ${closed}\n`);
  });
  socket.once('connect', () => {
    socket.write(`GET ${path} HTTP/1.1\r\nHost: hub\r\n\r\n`);
    // Never read: what the hub writes piles up in the kernel's buffers, then in the hub's.
    socket.pause();
    connected++;
    if (connected === Number(count)) process.stdout.write(`connected ${connected}\n`);
  });
  sockets.push(socket);
  // Not all at once: the listen backlog is finite.
  if (i % 100 === 99) await new Promise((resolve) => setTimeout(resolve, 20));
}
setInterval(() => {}, 1 << 30);
