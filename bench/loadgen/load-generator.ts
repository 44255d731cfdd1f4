/** The orchestrator's side of a load generator process: start it, run a script, answer its marks. */
import { readdirSync } from 'node:fs';
import type { Endpoints } from '../../src/cli/bench/endpoints.js';
import { type Child, launch } from '../lib/children.js';
import type { ScenarioParams } from '../lib/scenarios.js';
import type { FromLoadgen, LoadgenResult, ToLoadgen } from './messages.js';

/** Descriptors of an idle load generator (stdio, IPC, libuv, a few sockets still closing). */
const LEFT_DESCRIPTORS = 100;

export class LoadGenerator {
  private constructor(private readonly child: Child) {}

  static async start(): Promise<LoadGenerator> {
    const child = launch('load generator', process.execPath, ['--import', 'tsx', 'bench/loadgen/main.ts'], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`the load generator did not start:\n${child.tail()}`)),
        20_000,
      );
      child.process.once('message', () => {
        clearTimeout(timer);
        resolve();
      });
      child.exited.then(() => reject(new Error(`the load generator exited:\n${child.tail()}`)));
    });
    return new LoadGenerator(child);
  }

  get pid(): number {
    return this.child.pid;
  }

  get alive(): boolean {
    return this.child.process.exitCode === null && this.child.process.signalCode === null;
  }

  /**
   * Runs one script; `onMark` is called (synchronously) at each of its marks, before it goes on.
   * Fails after `timeoutMs`, and if the process dies.
   */
  run(
    params: ScenarioParams,
    endpoints: Endpoints,
    onMark: (name: string) => void,
    timeoutMs: number,
  ): Promise<LoadgenResult> {
    const child = this.child.process;
    return new Promise((resolve, reject) => {
      const finish = (error: Error | undefined, result?: LoadgenResult) => {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
        if (error) reject(error);
        else resolve(result as LoadgenResult);
      };
      const onMessage = (message: FromLoadgen) => {
        if (message.type === 'mark') {
          onMark(message.name);
          child.send({ type: 'marked' } satisfies ToLoadgen);
        } else if (message.type === 'result') {
          finish(undefined, message.result);
        } else if (message.type === 'failed') {
          finish(new Error(`load generator: ${message.message}`));
        }
      };
      const onExit = () => finish(new Error(`the load generator died:\n${this.child.tail()}`));
      const timer = setTimeout(() => {
        // Its sockets are in an unknown state: it is replaced before the next run.
        this.child.stop('SIGKILL');
        finish(new Error(`the run took more than ${timeoutMs / 1000} s`));
      }, timeoutMs);
      child.on('message', onMessage);
      child.once('exit', onExit);
      child.send({ type: 'run', params, endpoints } satisfies ToLoadgen);
    });
  }

  /** Descriptors the process holds now. */
  private descriptors(): number {
    try {
      return readdirSync(`/proc/${this.pid}/fd`).length;
    } catch {
      return 0;
    }
  }

  /**
   * Closes the streams the last run left open; call it once the server is stopped. Should its
   * sockets not be released within 5 s (a socket that never closes would add up, run after run,
   * to the descriptor limit), the process is killed, and the next run starts a new one.
   */
  async reset(): Promise<void> {
    await this.closeLeftovers();
    for (let waited = 0; this.alive && this.descriptors() > LEFT_DESCRIPTORS; waited += 100) {
      if (waited >= 5000) {
        process.stderr.write(
          `(the load generator still holds ${this.descriptors()} descriptors after a run: restarting it) `,
        );
        await this.child.stop('SIGKILL');
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  private closeLeftovers(): Promise<void> {
    const child = this.child.process;
    if (!this.alive) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', done);
        resolve();
      };
      const onMessage = (message: FromLoadgen) => {
        if (message.type === 'reset-done') done();
      };
      const timer = setTimeout(done, 10_000);
      child.on('message', onMessage);
      child.once('exit', done);
      child.send({ type: 'reset' } satisfies ToLoadgen);
    });
  }

  stop(): Promise<void> {
    return this.child.stop('SIGTERM', 2000);
  }
}
