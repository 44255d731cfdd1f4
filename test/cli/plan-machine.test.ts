// The machine reader on this machine: what it reads from /proc against what the shell and other
// tools say, and a process's own descriptor limit under a real, lowered `ulimit -n`.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';
import { describe, expect, it } from 'vitest';
import { parseDescriptorLimits, readMachine } from '../../src/cli/plan/machine.js';

const linux = process.platform === 'linux';

describe.runIf(linux)('readMachine on this machine', () => {
  it("reads the descriptor limits the shell's ulimit reports", () => {
    const [soft, hard] = execFileSync('sh', ['-c', 'ulimit -Sn; ulimit -Hn'], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((text) => (text === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(text)));
    const machine = readMachine();
    expect(machine.descriptorSoftLimit).toBe(soft);
    expect(machine.descriptorHardLimit).toBe(hard);
  });

  it("reads a process's own limit: a child under ulimit -n 300 reads 300", () => {
    const script =
      "import('./src/cli/plan/machine.ts').then(({ readMachine }) => { const m = readMachine(); console.log(JSON.stringify([m.descriptorSoftLimit, m.descriptorHardLimit])); })";
    const output = execFileSync(
      'sh',
      ['-c', `ulimit -n 300 && exec "${process.execPath}" --import tsx -e "${script}"`],
      { encoding: 'utf8' },
    );
    expect(JSON.parse(output.trim())).toEqual([300, 300]);
  });

  it('reads cores, memory, the page size and the kernel settings', () => {
    const machine = readMachine();
    expect(machine.cores).toBeGreaterThanOrEqual(1);
    expect(machine.cores).toBeLessThanOrEqual(availableParallelism());
    expect(machine.memoryBytes).toBeGreaterThan(0);
    expect(machine.memoryBytes).toBeLessThanOrEqual(totalmem());
    expect(machine.pageBytes).toBe(Number(execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8' })));
    // sysctl(8) would say the same; its files are what it reads.
    const sysctl = (path: string) =>
      readFileSync(`/proc/sys/${path}`, 'utf8').trim().split(/\s+/).map(Number);
    expect(machine.somaxconn).toBe(sysctl('net/core/somaxconn')[0]);
    expect(machine.localPortRange).toEqual(sysctl('net/ipv4/ip_local_port_range'));
    expect(machine.tcpMemPages).toEqual(sysctl('net/ipv4/tcp_mem'));
    expect(machine.nrOpen).toBe(sysctl('fs/nr_open')[0]);
    const [low, pressure, high] = machine.tcpMemPages as [number, number, number];
    expect(low).toBeLessThanOrEqual(pressure);
    expect(pressure).toBeLessThanOrEqual(high);
    expect(machine.heapLimitBytes).toBeGreaterThan(100e6);
  });
});

describe('parseDescriptorLimits', () => {
  it('reads numbers and "unlimited" from a limits file, and nothing from text without the line', () => {
    const limits =
      'Limit                     Soft Limit           Hard Limit           Units     \n' +
      'Max processes             unlimited            unlimited            processes \n' +
      'Max open files            1024                 unlimited            files     \n';
    expect(parseDescriptorLimits(limits)).toEqual({ soft: 1024, hard: Number.MAX_SAFE_INTEGER });
    expect(parseDescriptorLimits('Max processes 10 10 processes\n')).toBeUndefined();
  });
});
