/** Objects that cannot be compared by value (a Blob or FormData body) are told apart by identity. */
const identities = new WeakMap<object, number>();
let nextIdentity = 0;

function identity(value: object): string {
  let id = identities.get(value);
  if (id === undefined) {
    id = ++nextIdentity;
    identities.set(value, id);
  }
  return `#${id}`;
}

/**
 * A string that changes when one of `values` changes by value, for an effect's dependencies: a hook
 * given a new options object on each render (the usual `useX(url, { headers: {…} })`) must not
 * reconnect on each render. Strings, numbers, plain objects and arrays compare by value; `Headers`
 * by their entries; functions are left out; anything else compares by identity.
 */
export function optionsKey(values: readonly unknown[]): string {
  return JSON.stringify(values, (_name, value: unknown) => {
    if (value === null || typeof value !== 'object') return value;
    if (typeof Headers !== 'undefined' && value instanceof Headers) return [...value.entries()];
    if (Array.isArray(value) || Object.getPrototypeOf(value) === Object.prototype) return value;
    return identity(value);
  });
}
