/** The hub's URL path, fixed by the protocol: subscribe (GET) and publish (POST). */
export const HUB_PATH = '/.well-known/mercure';

/** The path under which subscription events are published and the subscriptions API answers. */
export const SUBSCRIPTIONS_PATH = `${HUB_PATH}/subscriptions`;
