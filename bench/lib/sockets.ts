/**
 * Which process holds which TCP socket, from /proc (Linux only): to find a store's engine on this
 * machine (the process listening on its port) and the engine's processes that serve one hub (a
 * PostgreSQL backend per connection the hub opened).
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

interface TcpSocket {
  localPort: number;
  remotePort: number;
  listening: boolean;
  inode: string;
}

/** The sockets of /proc/<pid>/net/tcp and tcp6 (the network namespace's, not only the process's). */
function tcpSockets(pid: number | 'self'): TcpSocket[] {
  const sockets: TcpSocket[] = [];
  for (const file of ['tcp', 'tcp6']) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/net/${file}`, 'latin1');
    } catch {
      continue;
    }
    // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode …
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const [local, remote, state, inode] = [fields[1], fields[2], fields[3], fields[9]];
      if (local === undefined || remote === undefined || inode === undefined) continue;
      sockets.push({
        localPort: Number.parseInt(local.slice(local.lastIndexOf(':') + 1), 16),
        remotePort: Number.parseInt(remote.slice(remote.lastIndexOf(':') + 1), 16),
        listening: state === '0A',
        inode,
      });
    }
  }
  return sockets;
}

/** The inodes of the sockets a process holds open. */
function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return inodes; // Gone, or not ours to read.
  }
  for (const fd of fds) {
    try {
      const match = readlinkSync(`/proc/${pid}/fd/${fd}`).match(/^socket:\[(\d+)\]$/);
      if (match?.[1]) inodes.add(match[1]);
    } catch {
      // Closed meanwhile.
    }
  }
  return inodes;
}

/** The process listening on TCP `port` on this machine, when it can be seen (same namespace, readable fds). */
export function listeningPid(port: number): number | undefined {
  const wanted = new Set(
    tcpSockets('self')
      .filter((socket) => socket.listening && socket.localPort === port)
      .map((socket) => socket.inode),
  );
  if (wanted.size === 0) return undefined;
  const pids = readdirSync('/proc')
    .map(Number)
    .filter((pid) => Number.isInteger(pid))
    .sort((a, b) => a - b);
  for (const pid of pids) {
    for (const inode of socketInodes(pid)) if (wanted.has(inode)) return pid;
  }
  return undefined;
}

/** The local ports of the connections `pid` holds to a server on `remotePort`. */
export function localPortsTo(pid: number, remotePort: number): Set<number> {
  const held = socketInodes(pid);
  return new Set(
    tcpSockets(pid)
      .filter((socket) => !socket.listening && socket.remotePort === remotePort && held.has(socket.inode))
      .map((socket) => socket.localPort),
  );
}

/** The children of a process, with their command lines (a PostgreSQL backend names its client there). */
export function childrenOf(pid: number): { pid: number; commandLine: string }[] {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/task/${pid}/children`, 'latin1');
  } catch {
    return [];
  }
  return text
    .trim()
    .split(/\s+/)
    .filter(Boolean)
    .flatMap((child) => {
      try {
        const commandLine = readFileSync(`/proc/${child}/cmdline`, 'latin1').replace(/\0+/g, ' ').trim();
        return [{ pid: Number(child), commandLine }];
      } catch {
        return []; // Ended meanwhile.
      }
    });
}
