import { afterEach } from 'vitest';

/** Registers a cleanup to run after the current test: `const defer = cleanupAfterEach(); defer(() => x.close())`. */
export type Teardown = (cleanup: () => unknown) => void;

/**
 * Cleanups run after each test of the file that calls this, newest first, every one of them even
 * when some throw (child processes must die whatever the assertions said); then the test fails with
 * the error, or with all of them when several threw.
 */
export function cleanupAfterEach(): Teardown {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    const errors: unknown[] = [];
    while (cleanups.length > 0) {
      try {
        await cleanups.pop()?.();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) {
      const messages = errors.map((error) => (error instanceof Error ? error.message : String(error)));
      throw new AggregateError(errors, `${errors.length} cleanups failed: ${messages.join('; ')}`);
    }
  });
  return (cleanup) => {
    cleanups.push(cleanup);
  };
}
