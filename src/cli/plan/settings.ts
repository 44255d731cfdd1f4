/**
 * The system settings a plan asks for (descriptor limits, sysctls), each with its value, the
 * command that sets it and the reason, from what this machine has and what the plan needs; and
 * the plan's notes on what it leaves to the reader (the proxy in front).
 */
import type { Machine } from './machine.js';

/** The listen backlog Node asks for; the kernel caps it at somaxconn. */
export const NODE_LISTEN_BACKLOG = 511;
/** What somaxconn is raised to when it is below Node's backlog (the default of recent kernels). */
export const ADVISED_SOMAXCONN = 4096;
/** Subscribers the hub accepts from one client address by default: behind one proxy, all share its address. */
export const HUB_PER_ADDRESS_LIMIT = 10_000;
/** Room asked for above the descriptors the hub's workers may open, for everything else on the machine. */
const FILE_MAX_MARGIN = 1.25;

/** A system setting the plan wants changed, and why. */
export interface Setting {
  name: string;
  value: string;
  /** The command that changes it. */
  command: string;
  why: string;
}

/** What the settings depend on in a plan. */
export interface Sizing {
  /** The per-process descriptor limit planned with. */
  descriptorLimit: number;
  descriptorsPerProcess: number;
  workers: number;
  subscribersPerMachine: number;
  /** TCP memory pages for one event in flight to every subscriber of a machine. */
  tcpPagesNeeded: number;
  /** When descriptors bind well before the next limit: a higher limit, the machines it needs, and what binds then. */
  unbound?: { limit: number; machines: number; limitedBy: string };
}

const count = (value: number) => value.toLocaleString('en-US');

/** The settings to change on every machine (and the descriptor limit always, as it must be set per service). */
export function systemSettings(machine: Machine, sizing: Sizing): Setting[] {
  const { descriptorLimit: limit, workers, subscribersPerMachine: perMachine } = sizing;
  const soft = machine.descriptorSoftLimit;
  const hard = machine.descriptorHardLimit;
  const settings: Setting[] = [
    {
      name: 'descriptors per process (ulimit -n)',
      value: String(limit),
      command: `ulimit -n ${limit}   (systemd: LimitNOFILE=${limit})`,
      why:
        soft !== undefined && soft >= limit
          ? `${count(sizing.descriptorsPerProcess)} needed; already ${count(soft)} here: keep it in the service's unit`
          : `${count(sizing.descriptorsPerProcess)} needed (subscribers + reserve); the soft limit here is ${soft === undefined ? 'unknown' : count(soft)}`,
    },
  ];
  if (hard !== undefined && limit > hard) {
    settings.push({
      name: 'hard descriptor limit',
      value: String(limit),
      command: `LimitNOFILE=${limit} in the systemd unit, or "* hard nofile ${limit}" in /etc/security/limits.conf`,
      why: `the hard limit here is ${count(hard)}`,
    });
  }
  if (machine.nrOpen !== undefined && limit > machine.nrOpen) {
    settings.push({
      name: 'fs.nr_open',
      value: String(limit),
      command: `sysctl -w fs.nr_open=${limit}`,
      why: `no process may have more descriptors than fs.nr_open (${count(machine.nrOpen)} here)`,
    });
  }
  const machineDescriptors = workers * limit;
  if (machine.fileMax !== undefined && machine.fileMax < machineDescriptors * FILE_MAX_MARGIN) {
    const value = Math.ceil(machineDescriptors * FILE_MAX_MARGIN);
    settings.push({
      name: 'fs.file-max',
      value: String(value),
      command: `sysctl -w fs.file-max=${value}`,
      why: `${workers} workers may open ${count(machineDescriptors)} descriptors; the system allows ${count(machine.fileMax)}`,
    });
  }
  if (machine.somaxconn === undefined || machine.somaxconn < NODE_LISTEN_BACKLOG) {
    settings.push({
      name: 'net.core.somaxconn',
      value: String(ADVISED_SOMAXCONN),
      command: `sysctl -w net.core.somaxconn=${ADVISED_SOMAXCONN}`,
      why: `Node listens with a backlog of ${NODE_LISTEN_BACKLOG}, capped by somaxconn (${machine.somaxconn ?? 'unknown'} here): a reconnect storm overflows a short one`,
    });
  }
  const tcp = machine.tcpMemPages;
  if (tcp !== undefined && tcp[1] < sizing.tcpPagesNeeded) {
    const needed = sizing.tcpPagesNeeded;
    const value = `${Math.min(tcp[0], needed)} ${needed} ${Math.ceil(needed * 1.5)}`;
    settings.push({
      name: 'net.ipv4.tcp_mem',
      value,
      command: `sysctl -w net.ipv4.tcp_mem="${value}"`,
      why: `a broadcast puts one event in flight to each of ${count(perMachine)} subscribers (${count(needed)} pages); the kernel throttles TCP past ${count(tcp[1])} pages here`,
    });
  }
  const ports = machine.localPortRange;
  if (ports !== undefined && perMachine > ports[1] - ports[0] + 1) {
    settings.push({
      name: 'net.ipv4.ip_local_port_range (on the proxy)',
      value: '1024 65535',
      command: 'sysctl -w net.ipv4.ip_local_port_range="1024 65535"',
      why: `a proxy holds one connection to the hub per subscriber, each from a local port: ${count(perMachine)} subscribers per machine, ${count(ports[1] - ports[0] + 1)} ports here${perMachine > 64_512 ? '; past 64,512, give the proxy more source addresses (nginx proxy_bind) or the hub more ports' : ''}`,
    });
  }
  return settings;
}

/** What the plan says it does not cover, or covers by assumption. */
export function planNotes(sizing: Sizing): string[] {
  const { workers, subscribersPerMachine: perMachine } = sizing;
  const notes = [
    `Calibrated with one process; the per-process figures are scaled to ${workers} worker(s) per machine (siar serve --workers ${workers}).`,
  ];
  if (perMachine > HUB_PER_ADDRESS_LIMIT) {
    notes.push(
      `Behind a proxy every subscriber comes from the proxy's address, and the hub admits ${count(HUB_PER_ADDRESS_LIMIT)} per address by default: ${count(perMachine)} per machine need the hub to read X-Forwarded-For (createHub({ trustProxy: true })) or several proxy addresses.`,
    );
  }
  if (sizing.unbound !== undefined) {
    const { limit, machines, limitedBy } = sizing.unbound;
    notes.push(
      `Descriptors bind first: with ${count(limit)} per process (LimitNOFILE; plan again with --descriptor-limit ${limit}), ${count(machines)} machine${machines === 1 ? '' : 's'} would do, bound by ${limitedBy}.`,
    );
  }
  notes.push(
    `A proxy on the same machine needs 2 descriptors per subscriber (${count(2 * perMachine)}: nginx worker_rlimit_nofile and worker_connections) and CPU of its own, not in this plan.`,
  );
  return notes;
}
