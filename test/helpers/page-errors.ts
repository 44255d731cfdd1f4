/**
 * Awaits a Playwright call (`page.evaluate`, `page.waitForFunction`…) and rethrows its error
 * without the page's stack frames as frames. Those frames name the page's URL
 * (`at login (http://127.0.0.1:1234/:38:12)`), which Vitest takes for a source file and tries to read:
 * for a page served at `/` it reads the directory `/`, fails with EISDIR, and the run loses the
 * failing test's report. The frames stay in the message, as text.
 */
export async function fromPage<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(message.replace(/^\s+at /gm, '    in the page: '));
  }
}
