/** `siar/server`: SSE inside any Node.js app. */
export {};
