import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Socket-heavy suites share two cores; a bounded pool keeps them from starving each other.
    maxWorkers: 2,
    outputFile: { junit: 'test-output/junit.xml' },
  },
});
