/**
 * A plan as a person reads it (sections of figures, each with its basis and source, then the
 * commands, settings and headroom) and as a program reads it (one JSON object).
 */
import { MACHINE_SOURCES, type Machine } from './machine.js';
import type { Figure, Measurement, Plan, PlanFigures, Unit } from './model.js';

/** Everything a plan was made of. */
export interface PlanReport {
  machine: Machine;
  measured: Measurement;
  plan: Plan;
}

/** Width of the figures' label and value columns. */
const LABEL_WIDTH = 32;
const VALUE_WIDTH = 16;
/** Width of the text, in columns. */
const TEXT_WIDTH = 100;

const read = (value: number, unit: Unit, from: string): Figure => ({ value, unit, basis: 'read', from });
const measuredHere = (value: number, unit: Unit, from: string): Figure => ({
  value,
  unit,
  basis: 'measured',
  from,
});

/** What was read of this machine, as figures (those the system did not give are left out). */
export function machineFigures(machine: Machine): Record<string, Figure> {
  const figures: Record<string, Figure> = {
    cores: read(machine.cores, 'cores', MACHINE_SOURCES.cores),
    memoryBytes: read(machine.memoryBytes, 'bytes', MACHINE_SOURCES.memoryBytes),
    heapLimitBytes: read(machine.heapLimitBytes, 'bytes', MACHINE_SOURCES.heapLimitBytes),
  };
  const optional: Array<[string, number | undefined, string]> = [
    ['descriptorSoftLimit', machine.descriptorSoftLimit, `${MACHINE_SOURCES.descriptors}, soft`],
    ['descriptorHardLimit', machine.descriptorHardLimit, `${MACHINE_SOURCES.descriptors}, hard`],
    ['somaxconn', machine.somaxconn, MACHINE_SOURCES.somaxconn],
    [
      'localPorts',
      machine.localPortRange && machine.localPortRange[1] - machine.localPortRange[0] + 1,
      MACHINE_SOURCES.localPortRange,
    ],
    ['tcpMemPressurePages', machine.tcpMemPages?.[1], `${MACHINE_SOURCES.tcpMemPages}, pressure`],
    ['fileMax', machine.fileMax, MACHINE_SOURCES.fileMax],
    ['nrOpen', machine.nrOpen, MACHINE_SOURCES.nrOpen],
  ];
  for (const [name, value, from] of optional)
    if (value !== undefined) figures[name] = read(value, 'count', from);
  return figures;
}

/** What the calibration measured, as figures. */
export function measuredFigures(measured: Measurement): Record<string, Figure> {
  return {
    baseRssBytes: measuredHere(
      measured.baseRssBytes,
      'bytes',
      'hub RSS after publishing, before any subscriber',
    ),
    bytesPerSubscriber: measuredHere(
      measured.bytesPerSubscriber,
      'bytes',
      'hub RSS with every subscriber connected, less the base, ÷ subscribers',
    ),
    activeRssBytes: measuredHere(
      measured.activeRssBytes,
      'bytes',
      'hub RSS growth while delivering (garbage not collected yet), once per process',
    ),
    cpuMicrosPerDelivery: measuredHere(
      measured.cpuMicrosPerDelivery,
      'µs',
      'hub CPU while broadcasting, less idle and update costs',
    ),
    cpuMicrosPerUpdate: measuredHere(
      measured.cpuMicrosPerUpdate,
      'µs',
      `hub CPU per publish to a topic nobody follows, at ${number(measured.updatePhaseRate)}/s`,
    ),
    idleCpuMicrosPerSecond: measuredHere(
      measured.idleCpuMicrosPerSecond,
      'µs/s',
      'hub CPU with nothing to do',
    ),
    connectsPerSecond: measuredHere(
      measured.connectsPerSecond,
      '/s',
      'streams opened, 500 at a time at most',
    ),
    frameBytes: {
      value: measured.frameBytes,
      unit: 'bytes',
      basis: 'derived',
      from: "the hub's frame for this payload, as an HTTP/1.1 chunk",
    },
  };
}

/** 1,234 / 1.2 KB / 3.4 MB: decimal units, as the benchmarks print them. */
function bytes(value: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let scaled = value;
  let unit = 0;
  while (Math.abs(scaled) >= 1000 && unit < units.length - 1) {
    scaled /= 1000;
    unit++;
  }
  return `${scaled.toLocaleString('en-US', { maximumFractionDigits: unit === 0 ? 0 : 1 })} ${units[unit]}`;
}

function number(value: number, digits = 0): string {
  return value.toLocaleString('en-US', { maximumFractionDigits: digits });
}

/** A figure's value in its unit, for a person. */
export function formatValue({ value, unit }: Figure): string {
  if (!Number.isFinite(value)) return 'no limit';
  switch (unit) {
    case 'bytes':
      return bytes(value);
    case 'bytes/s':
      return `${bytes(value)}/s (${number((value * 8) / 1e6, 1)} Mbit/s)`;
    case 'count':
      return number(Math.round(value));
    case '/s':
      return `${number(value, value < 10 ? 3 : 0)}/s`;
    case 'cores':
      return `${number(value, 2)} core${value === 1 ? '' : 's'}`;
    case 'µs':
      return `${number(value, 2)} µs`;
    case 'µs/s':
      return `${number(value, 0)} µs/s`;
    case 'share':
      return `${number(value * 100, 0)}%`;
    case 's':
      return `${number(value, 1)} s`;
  }
}

/** Splits `text` into lines of at most `width` columns, at spaces. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  lines.push(line);
  return lines;
}

/** One figure's lines: label, value, and its basis and source, wrapped in the last column. */
function row(label: string, figure: Figure): string {
  const column = 2 + LABEL_WIDTH + VALUE_WIDTH;
  const source = wrap(`${figure.basis}: ${figure.from}`, TEXT_WIDTH - column);
  const value = formatValue(figure);
  const head = `  ${label.padEnd(LABEL_WIDTH)}${value.padEnd(VALUE_WIDTH)}`;
  // A value too wide for its column pushes the source to the next line.
  const first = head.length > column ? [head.trimEnd(), ' '.repeat(column) + source[0]] : [head + source[0]];
  return [...first, ...source.slice(1).map((line) => ' '.repeat(column) + line)].join('\n');
}

function section(title: string, rows: Array<[string, Figure | undefined]>): string {
  const lines = rows.filter((entry): entry is [string, Figure] => entry[1] !== undefined);
  return `${title}\n${lines.map(([label, figure]) => row(label, figure)).join('\n')}\n`;
}

/** The plan as text. */
export function renderText({ machine, measured, plan }: PlanReport): string {
  const { request } = plan;
  const f: PlanFigures = plan.figures;
  const m = machineFigures(machine);
  const c = measuredFigures(measured);
  const topics = `${number(request.topics)} topic${request.topics === 1 ? '' : 's'}`;
  const header =
    `siar plan: ${number(request.subscribers)} subscribers, ${number(request.updatesPerSecond, 3)} updates/s ` +
    `over ${topics}, ${number(request.payloadBytes)} B each, store ${request.store}\n`;
  const calibration =
    `Measured here (${number(measured.subscribers)} subscribers on one process, ${measured.store} store, ` +
    `${measured.seconds} s, ${number(measured.calibrationUpdatesPerSecond, 2)} broadcasts/s)`;
  const settings =
    plan.settings.length === 0
      ? '  none\n'
      : plan.settings
          .map((setting) =>
            [
              `  ${setting.name} = ${setting.value}`,
              `      ${setting.command}`,
              ...wrap(setting.why, TEXT_WIDTH - 6).map((line) => `      ${line}`),
            ].join('\n'),
          )
          .join('\n')
          .concat('\n');
  const machines = f.machines.value;
  return [
    header,
    section('This machine', [
      ['cores', m.cores],
      ['memory', m.memoryBytes],
      ['descriptors per process, soft', m.descriptorSoftLimit],
      ['descriptors per process, hard', m.descriptorHardLimit],
      ['somaxconn', m.somaxconn],
      ['local ports', m.localPorts],
      ['tcp_mem pressure (pages)', m.tcpMemPressurePages],
      ['fs.file-max', m.fileMax],
      ['fs.nr_open', m.nrOpen],
      ['V8 heap limit', m.heapLimitBytes],
    ]),
    section(calibration, [
      ['hub base memory', c.baseRssBytes],
      ['memory per subscriber', c.bytesPerSubscriber],
      ['memory while delivering', c.activeRssBytes],
      ['CPU per delivery', c.cpuMicrosPerDelivery],
      ['CPU per update', c.cpuMicrosPerUpdate],
      ['idle CPU', c.idleCpuMicrosPerSecond],
      ['connects per second', c.connectsPerSecond],
      ['bytes per event on the wire', c.frameBytes],
    ]),
    section('Assumed', [
      ['descriptor reserve per process', f.descriptorReserve],
      ['CPU target per process', f.cpuTarget],
      ['memory target per machine', f.memoryTarget],
      ['kernel memory per connection', f.kernelBytesPerConnection],
      ['packet headers', f.packetOverheadBytes],
    ]),
    section('Per subscriber', [
      ['updates per second', f.updatesPerSubscriberPerSecond],
      ['heartbeats per second', f.heartbeatsPerSubscriberPerSecond],
      ['kernel memory', f.kernelBytesPerSubscriber],
    ]),
    section('Subscribers one process can hold', [
      ['descriptor limit planned with', f.descriptorLimit],
      ['by descriptors', f.capacityByDescriptors],
      ['by CPU', f.capacityByCpu],
      ['by memory', f.capacityByMemory],
      ['by V8 heap', f.capacityByHeap],
      ['capacity per process', f.capacityPerProcess],
    ]),
    section(`Plan (${number(machines)} machine${machines === 1 ? '' : 's'} like this one)`, [
      ['machines', f.machines],
      ['worker processes per machine', f.workersPerMachine],
      ['processes in all', f.processes],
      ['subscribers per process', f.subscribersPerProcess],
      ['subscribers per machine', f.subscribersPerMachine],
      ['CPU per process', f.cpuCoresPerProcess],
      ['memory per process', f.memoryBytesPerProcess],
      ['memory per machine', f.memoryBytesPerMachine],
      ['cores per machine', f.coresPerMachine],
      ['descriptors per process', f.descriptorsPerProcess],
      ['egress per machine', f.egressBytesPerSecondPerMachine],
      ['deliveries per second, all', f.deliveriesPerSecond],
      ['egress, all', f.egressBytesPerSecond],
      ['memory, all', f.memoryBytes],
      ['cores, all', f.cores],
      ['CPU busy, all', f.cpuCoresBusy],
      ['reconnect storm accepted in', f.reconnectSeconds],
      ['most updates per second', f.maxUpdatesPerSecond],
    ]),
    `Store: ${plan.store.spec}${plan.store.shared ? ' (shared)' : ''}\n  ${wrap(plan.store.why, TEXT_WIDTH - 2).join('\n  ')}\n`,
    `Commands, on each machine (SIAR_PUBLISHER_JWT_KEY set to the publishers' key)\n${plan.commands.map((line) => `  ${line}`).join('\n')}\n`,
    `System settings\n${settings}`,
    section('Headroom', [
      ['subscribers', f.headroomSubscribers],
      ['CPU', f.headroomCpu],
      ['memory', f.headroomMemory],
      ['descriptors', f.headroomDescriptors],
    ]),
    `Notes\n${plan.notes
      .map((note) =>
        wrap(note, TEXT_WIDTH - 4)
          .map((line, i) => `${i === 0 ? '  - ' : '    '}${line}`)
          .join('\n'),
      )
      .join('\n')}\n`,
  ].join('\n');
}

/** A number for JSON: a limit that does not bind (Infinity) is null. */
const finite = (value: number) => (Number.isFinite(value) ? value : null);

/** The plan as one JSON object: machine, measured, plan, and every figure with its basis and source. */
export function renderJson({ machine, measured, plan }: PlanReport): string {
  const f = plan.figures;
  const value = (name: keyof PlanFigures) => finite(f[name].value);
  const finiteFigures = (figures: Record<string, Figure>) =>
    Object.fromEntries(
      Object.entries(figures).map(([name, figure]) => [name, { ...figure, value: finite(figure.value) }]),
    );
  return `${JSON.stringify({
    request: plan.request,
    machine: {
      cores: machine.cores,
      memoryBytes: machine.memoryBytes,
      descriptorLimit: machine.descriptorHardLimit ?? null,
      descriptorSoftLimit: machine.descriptorSoftLimit ?? null,
      somaxconn: machine.somaxconn ?? null,
      localPortRange: machine.localPortRange ?? null,
      tcpMemPages: machine.tcpMemPages ?? null,
      pageBytes: machine.pageBytes,
      fileMax: machine.fileMax ?? null,
      nrOpen: machine.nrOpen ?? null,
      heapLimitBytes: machine.heapLimitBytes,
    },
    measured,
    plan: {
      processes: value('processes'),
      machines: value('machines'),
      workersPerMachine: value('workersPerMachine'),
      subscribersPerProcess: value('subscribersPerProcess'),
      subscribersPerMachine: value('subscribersPerMachine'),
      capacityPerProcess: value('capacityPerProcess'),
      limitedBy: plan.limitedBy,
      memoryBytes: value('memoryBytes'),
      cores: value('cores'),
      cpuCoresBusy: value('cpuCoresBusy'),
      memoryBytesPerProcess: value('memoryBytesPerProcess'),
      memoryBytesPerMachine: value('memoryBytesPerMachine'),
      cpuCoresPerProcess: value('cpuCoresPerProcess'),
      coresPerMachine: value('coresPerMachine'),
      descriptorLimit: value('descriptorLimit'),
      descriptorsPerProcess: value('descriptorsPerProcess'),
      deliveriesPerSecond: value('deliveriesPerSecond'),
      egressBytesPerSecond: value('egressBytesPerSecond'),
      egressBytesPerSecondPerMachine: value('egressBytesPerSecondPerMachine'),
      reconnectSeconds: value('reconnectSeconds'),
      maxUpdatesPerSecond: value('maxUpdatesPerSecond'),
      store: plan.store.spec,
      storeShared: plan.store.shared,
      storeWhy: plan.store.why,
      commands: plan.commands,
      settings: plan.settings,
      headroom: {
        subscribers: value('headroomSubscribers'),
        cpu: value('headroomCpu'),
        memory: value('headroomMemory'),
        descriptors: value('headroomDescriptors'),
      },
      notes: plan.notes,
    },
    figures: {
      machine: finiteFigures(machineFigures(machine)),
      measured: finiteFigures(measuredFigures(measured)),
      plan: finiteFigures(f),
    },
  })}\n`;
}
