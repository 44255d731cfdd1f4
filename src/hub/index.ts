/** `siar/hub`: a Mercure-protocol hub. */
export {};
