// The soak of `npm run soak` (./helpers/soak.ts), for 60 seconds: the real `siar serve`,
// 50 updates a second, 50 subscribers that drop their connection every few seconds and come back
// with Last-Event-ID. Nothing may be lost, duplicated or reordered, and the hub's RSS and
// event-loop delay must end where they started, within the tolerance the soak states.
import { describe, expect, it } from 'vitest';
import { renderSoakReport, runSoak } from './helpers/soak.js';

describe('soak (60 s)', () => {
  it('loses nothing, duplicates nothing, and keeps RSS and event-loop delay flat', async () => {
    const report = await runSoak({ durationMs: 60_000 });
    console.info(renderSoakReport(report));
    expect(report.published).toBeGreaterThan(2500);
    expect(report.connections).toBeGreaterThan(report.options.subscribers * 3);
    expect({ lost: report.lost, duplicated: report.duplicated, outOfOrder: report.outOfOrder }).toEqual({
      lost: 0,
      duplicated: 0,
      outOfOrder: 0,
    });
    expect(report.failures).toEqual([]);
  }, 180_000);
});
