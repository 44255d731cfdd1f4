/** What may make a report's figures wrong or unsure, said before any of them: failures and noise. */
import { number } from './format.js';
import type { ReportInput } from './outcomes.js';

/** Every row with a lost, repeated or malformed event, a failed stream or a failed run: none may hide. */
export function correctness(input: ReportInput): string {
  const problems: string[] = [];
  let runs = 0;
  for (const { scenario, rows } of input.outcomes) {
    for (const row of rows) {
      runs += row.runs.length;
      for (const failure of row.failures)
        problems.push(`(${scenario.id}) ${row.label}: a run failed: ${failure}`);
      const counts: string[] = [];
      for (const [name, count] of Object.entries(row.combined)) {
        if (
          count > 0 &&
          /(^|\.)(lost|dups|malformed|connectFailed|reconnectFailed|incomplete|serverCloses)$/.test(name)
        ) {
          counts.push(`${name} = ${number(count)}`);
        }
      }
      if (counts.length > 0)
        problems.push(`(${scenario.id}) ${row.label}: ${counts.join(', ')} (over ${row.runs.length} runs)`);
    }
  }
  if (problems.length === 0) {
    return `No event was lost, repeated or malformed, and every stream opened, in any of the ${runs} runs (checked per
subscriber by sequence number).`;
  }
  return `**WARNING: ${problems.length} row(s) with lost or repeated events, failed streams or failed runs.** Figures of these
rows are not comparable until fixed:

${problems.map((problem) => `- **${problem}**`).join('\n')}`;
}

/** Rows measured while other processes used a fifth of a core or more: their figures are less sure. */
export function noise(input: ReportInput): string {
  const busy: string[] = [];
  for (const { scenario, rows } of input.outcomes) {
    for (const row of rows) {
      const shares = Object.entries(row.combined).filter(([name]) => name.endsWith('otherCpuShare'));
      const most = Math.max(0, ...shares.map(([, share]) => share));
      if (most >= 0.2) busy.push(`(${scenario.id}) ${row.label}: ${number(most * 100)}% of a core`);
    }
  }
  if (busy.length === 0) return 'Other processes used less than a fifth of a core during every measure.';
  return `Other processes on the machine used a fifth of a core or more during these measures (median of the
repeats), which makes their figures less sure: ${busy.join('; ')}.`;
}
