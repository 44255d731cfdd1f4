/**
 * Where a profiled hub spent its time: the functions with the most self time in a V8
 * `.cpuprofile` (written by `node --cpu-prof`, which `npm run bench -- --profile` adds to the hub).
 * bench/profile.ts prints it for a file of one's choosing.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  name: string;
  ms: number;
  share: number;
}

function where(url: string, line: number): string {
  if (url === '') return '';
  const path = url.replace(/^file:\/\//, '');
  const inRepo = path.indexOf('/src/');
  const short = inRepo !== -1 ? path.slice(inRepo + 1) : path.startsWith('node:') ? path : basename(path);
  return ` ${short}:${line + 1}`;
}

/** Self time by function (name and place), most first; the whole profile's time is `total`. */
export function selfTimes(file: string): { total: number; top: SelfTime[] } {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const nameOf = new Map<number, string>();
  for (const node of profile.nodes) {
    const frame = node.callFrame;
    nameOf.set(node.id, `${frame.functionName || '(anonymous)'}${where(frame.url, frame.lineNumber)}`);
  }
  const byName = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    // timeDeltas[i] is the time before sample i: charge it to the sample's function.
    const delta = (profile.timeDeltas[i] ?? 0) / 1000;
    const name = nameOf.get(profile.samples[i] as number) ?? '?';
    byName.set(name, (byName.get(name) ?? 0) + delta);
    total += delta;
  }
  const top = [...byName]
    .map(([name, ms]) => ({ name, ms, share: total > 0 ? ms / total : 0 }))
    .sort((a, b) => b.ms - a.ms);
  return { total, top };
}

/** A Markdown-ish table of the top functions, `(idle)` left out of the shares of busy time. */
export function describeProfile(file: string, count = 20): string {
  const { total, top } = selfTimes(file);
  const idle = top.find((item) => item.name.startsWith('(idle)'))?.ms ?? 0;
  const busy = total - idle;
  const lines = [
    `${basename(file)}: ${(total / 1000).toFixed(1)} s profiled, ${(busy / 1000).toFixed(1)} s busy`,
    '| self ms | % of busy | function |',
    '|---:|---:|---|',
  ];
  for (const item of top.filter((entry) => !entry.name.startsWith('(idle)')).slice(0, count)) {
    lines.push(`| ${item.ms.toFixed(0)} | ${((item.ms / busy) * 100).toFixed(1)} | ${item.name} |`);
  }
  return lines.join('\n');
}
