/** `siar/client`: an EventSource for Node.js and a fetch-based subscribe(). */
export {};
