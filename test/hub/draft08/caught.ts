// What a refused call threw, checked to be of the expected class: the error itself, for its
// status, headers and message. Fails the test when the call was accepted or threw something else.

type ErrorClass<E> = abstract new (...args: never[]) => E;

export function thrown<E extends Error>(type: ErrorClass<E>, run: () => unknown): E {
  try {
    run();
  } catch (error) {
    if (error instanceof type) return error;
    throw error;
  }
  throw new Error(`expected a ${type.name}, but the call was accepted`);
}

export async function rejected<E extends Error>(type: ErrorClass<E>, promise: Promise<unknown>): Promise<E> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof type) return error;
    throw error;
  }
  throw new Error(`expected a ${type.name}, but the promise resolved`);
}
