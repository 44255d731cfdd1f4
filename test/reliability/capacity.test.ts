// The capacity a hub derives from its descriptor limit: the limit read from the system, the reserve
// kept for everything but subscribers, and the warnings at start. (What a hub does at that capacity,
// under a real `ulimit -n`, is descriptor-limit.test.ts.)
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  budgetOf,
  DESCRIPTOR_RESERVE,
  type DescriptorLimit,
  descriptorBudget,
  parseProcLimits,
  readDescriptorLimit,
  subscriberCapacity,
} from '../../src/hub/capacity.js';
import { LogRecorder } from '../helpers/log-recorder.js';

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            20000                1048576              files
Max locked memory         8388608              8388608              bytes
`;

const limit = (soft: number, hard = soft): DescriptorLimit => ({
  limit: soft,
  hard,
  source: 'RLIMIT_NOFILE',
});

describe('capacity from the descriptor limit', () => {
  it('reads "Max open files" from /proc/<pid>/limits', () => {
    expect(parseProcLimits(LIMITS)).toEqual({ soft: 20000, hard: 1048576 });
    expect(parseProcLimits(LIMITS.replace('20000  ', 'unlimited'))?.soft).toBe(Number.POSITIVE_INFINITY);
    expect(parseProcLimits('Max cpu time unlimited unlimited seconds\n')).toBeUndefined();
  });

  it("reads this process's own limit, as the system states it", () => {
    const text = readFileSync('/proc/self/limits', 'utf8');
    expect(readDescriptorLimit()).toEqual({
      limit: parseProcLimits(text)?.soft,
      hard: parseProcLimits(text)?.hard,
      source: 'RLIMIT_NOFILE',
    });
    const budget = descriptorBudget();
    expect(budget.open).toBeGreaterThan(3);
    expect(budget.subscribers + budget.reserve + budget.open).toBe(budget.limit);
  });

  it('keeps 256 descriptors for everything but subscribers (at least 64 beyond those open), and lets connections take all but 32', () => {
    expect(DESCRIPTOR_RESERVE).toBe(256);
    expect(budgetOf(limit(1024), 30)).toMatchObject({ reserve: 226, subscribers: 768, connections: 962 });
    expect(budgetOf(limit(20000), 30)).toMatchObject({
      reserve: 226,
      subscribers: 19744,
      connections: 19938,
    });
    // A process holding many descriptors already (a host app's files): 64 are kept beyond them.
    expect(budgetOf(limit(20000), 1000)).toMatchObject({
      reserve: 64,
      subscribers: 18936,
      connections: 18968,
    });
    // A tiny limit: the reserve takes half of what is free, and some subscribers still get in.
    expect(budgetOf(limit(64), 30)).toMatchObject({ reserve: 17, subscribers: 17, connections: 26 });
    expect(budgetOf(limit(Number.POSITIVE_INFINITY), 30).subscribers).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('lowers maxSubscribers past the capacity, saying what limits it and how to raise it', () => {
    const logs = new LogRecorder();
    expect(subscriberCapacity(50_000, false, budgetOf(limit(20000, 1048576), 30), logs)).toBe(19744);
    expect(logs.lines).toHaveLength(1);
    const [warning] = logs.lines;
    expect(warning?.level).toBe('warn');
    expect(warning?.message).toMatch(
      /^The hub holds at most 19744 subscribers, not the default maxSubscribers of 50000: this process may open 20000 descriptors \(RLIMIT_NOFILE\), 30 are open, and 226 more are kept for publishers, \/healthz, \/metrics, the store and logs\. More get 503 with Retry-After\. To hold 50000, raise the limit: ulimit -n (\d+) in the shell that starts the hub, LimitNOFILE=\1 in its systemd unit, or docker run --ulimit nofile=\1\.$/,
    );
    // The limit it names holds them.
    const named = Number(/ulimit -n (\d+)/.exec(warning?.message ?? '')?.[1]);
    expect(budgetOf(limit(named), 30).subscribers).toBeGreaterThanOrEqual(50_000);

    const asked = new LogRecorder();
    expect(subscriberCapacity(30_000, true, budgetOf(limit(20000, 20000), 30), asked)).toBe(19744);
    expect(asked.lines[0]?.message).toMatch(/not the 30000 asked for \(maxSubscribers, --max-subscribers\)/);
    expect(asked.lines[0]?.message).toMatch(/above the hard limit of 20000: as root/);
  });

  it('keeps a maxSubscribers the limit holds, and warns of a low limit all the same', () => {
    const quiet = new LogRecorder();
    expect(subscriberCapacity(10_000, true, budgetOf(limit(20000), 30), quiet)).toBe(10_000);
    expect(quiet.lines).toEqual([]);
    const low = new LogRecorder();
    expect(subscriberCapacity(500, true, budgetOf(limit(1024), 30), low)).toBe(500);
    expect(low.lines[0]?.message).toMatch(
      /^The descriptor limit is low: this process may open 1024 descriptors/,
    );
  });
});
