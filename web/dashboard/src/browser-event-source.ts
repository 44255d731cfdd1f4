// Stands in for siar/client's EventSource in the dashboard's bundle (see vite.config.ts): the page runs
// only in browsers, whose own EventSource siar/react's hook takes first, so the fetch-based one is dead weight.
export const EventSource = globalThis.EventSource;
