/**
 * nchan (Debian's nginx + libnginx-mod-nchan) with a config generated for the run in a temporary
 * directory: one worker, `master_process off` and `daemon off` so the bench's child is the
 * process serving (its CPU and memory are that one process), descriptors up to the 20,000 a
 * process may hold here and connection slots above that, logs and pid file in the directory,
 * nothing written elsewhere. With more workers (bench/workers.ts), a master process and
 * `reuseport`: the kernel spreads the connections over the workers.
 * Subscribers: `/sub` (EventSource; nchan answers 403 without `Accept: text/event-stream`),
 * publishers: `POST /pub`, one channel.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { freePort } from '../../test/helpers/net.js';
import { launch, removeTempDir, tempDir } from '../lib/children.js';
import { processTree } from '../lib/proc.js';
import { peerEndpoints, type ServerUnderTest } from './index.js';

export const NGINX = process.env.NGINX ?? '/usr/sbin/nginx';
export const NCHAN_MODULE = '/usr/lib/nginx/modules/ngx_nchan_module.so';
/** Descriptors of one process here (the hard limit). */
const MAX_DESCRIPTORS = 20_000;
/**
 * Connection slots of the worker: above the descriptors, because nchan takes slots that hold no
 * descriptor (with 20,000 slots it refuses subscribers past 18,750 with "worker_connections are
 * not enough" while holding 18,750 sockets); the descriptor limit is what bounds the sockets.
 */
const WORKER_CONNECTIONS = 24_000;

/** The nginx configuration of one run, with `workers` worker processes. */
export function nchanConfig(dir: string, port: number, workers = 1): string {
  // As root, nginx runs its workers as nobody unless told: they could not use the run's directory.
  const processes =
    workers === 1
      ? 'master_process off;\nworker_processes 1;'
      : `${process.getuid?.() === 0 ? 'user root;\n' : ''}worker_processes ${workers};`;
  return `load_module ${NCHAN_MODULE};
daemon off;
${processes}
worker_rlimit_nofile ${MAX_DESCRIPTORS};
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events {
  worker_connections ${WORKER_CONNECTIONS};
}
http {
  # No access log: the Node servers under test log nothing per request either.
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  nchan_max_reserved_memory 256M;
  server {
    listen 127.0.0.1:${port}${workers === 1 ? '' : ' reuseport'};
    location = /sub {
      nchan_subscriber eventsource;
      nchan_channel_id bench;
      # New subscribers start live, like the other servers (nchan's default replays the buffer).
      nchan_subscriber_first_message newest;
    }
    location = /pub {
      nchan_publisher;
      nchan_channel_id bench;
      # Enough history for the reconnect storm's missed updates.
      nchan_message_buffer_length 1000;
    }
  }
}
`;
}

function tcpReady(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline)
          reject(new Error(`nginx did not listen on ${port} within ${timeoutMs} ms`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

/** nginx's and nchan's versions, for the report; undefined parts when missing. */
export function nchanVersions(): { nginx?: string; nchan?: string } {
  const versions: { nginx?: string; nchan?: string } = {};
  // nginx -v prints on stderr.
  const nginx = spawnSync(NGINX, ['-v'], { encoding: 'utf8' });
  if (nginx.status === 0) versions.nginx = nginx.stderr.trim().replace(/^nginx version: /, '');
  try {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format syntax.
    versions.nchan = execFileSync('dpkg-query', ['-W', '-f', '${Version}', 'libnginx-mod-nchan'], {
      encoding: 'utf8',
    }).trim();
  } catch {
    // Not a Debian package here.
  }
  return versions;
}

export function nchanServer(workers = 1): ServerUnderTest {
  return {
    name: 'nchan',
    label: workers === 1 ? 'nchan (nginx)' : `nchan, ${workers} nginx workers`,
    async unavailable() {
      if (!existsSync(NGINX)) return `nginx not found at ${NGINX} (apt-get install nginx libnginx-mod-nchan)`;
      if (!existsSync(NCHAN_MODULE))
        return `nchan module not found at ${NCHAN_MODULE} (apt-get install libnginx-mod-nchan)`;
      const dir = tempDir('nchan-check');
      try {
        writeFileSync(`${dir}/nginx.conf`, nchanConfig(dir, await freePort()));
        execFileSync(NGINX, ['-t', '-q', '-p', dir, '-c', `${dir}/nginx.conf`, '-e', `${dir}/error.log`], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        return undefined;
      } catch (error) {
        const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
        return `nginx rejects the nchan config: ${stderr || (error as Error).message}`;
      } finally {
        removeTempDir(dir);
      }
    },
    async start() {
      const port = await freePort();
      const dir = tempDir('nchan');
      writeFileSync(`${dir}/nginx.conf`, nchanConfig(dir, port, workers));
      const child = launch('nchan', NGINX, ['-p', dir, '-c', `${dir}/nginx.conf`, '-e', `${dir}/error.log`]);
      // nchan 1.3.6 aborts ("double free") on SIGTERM without a master process: the bench kills it,
      // and a master's workers too (they would outlive it).
      const stop = async () => {
        const workerPids = processTree(child.pid)
          .map(({ pid }) => pid)
          .filter((pid) => pid !== child.pid);
        await child.stop('SIGKILL');
        for (const pid of workerPids) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // Gone with its master.
          }
        }
        removeTempDir(dir);
      };
      try {
        await tcpReady(port, 10_000);
      } catch (error) {
        await stop();
        throw error;
      }
      return {
        child,
        endpoints: peerEndpoints(port),
        stop,
      };
    },
  };
}
