import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../server/logger.js';
import { type Authorizer, checkPublishOrigin } from './authorization.js';
import { insufficientScope } from './bearer-challenge.js';
import type { DashboardFeed } from './dashboard.js';
import { HubError, storeFailed } from './errors.js';
import type { HubSettings } from './hub-options.js';
import type { HubRequest } from './hub-request.js';
import type { HubLifecycle } from './lifecycle.js';
import type { HubCounters, HubMetrics } from './metrics.js';
import { HUB_PATH } from './paths.js';
import { checkPublishRules } from './publish-rules.js';
import type { HubStore } from './stores/store.js';
import { matchesAny } from './topic-selector.js';
import { newUpdateId, type StoredUpdate, type Update, type UpdateInit } from './update.js';

/** Limits applied to every update, from the HTTP endpoint and from `hub.publish` alike. */
export interface UpdateLimits {
  /** Bytes of a publish request body (and of an update's data). */
  maxUpdateBytes: number;
  /** Topics of one update. */
  maxTopics: number;
  /** Characters of one topic. */
  maxTopicLength: number;
}

/**
 * Reads a request body up to `limit` bytes (413 beyond it) within `timeoutMs` (408 after it). Uses a
 * body a framework already parsed.
 */
export async function readBody(
  req: IncomingMessage & { body?: unknown },
  limit: number,
  timeoutMs: number,
): Promise<Buffer | object> {
  if (req.body !== undefined && req.body !== null) {
    // Express or Fastify parsed the body before the hub saw it.
    if (Buffer.isBuffer(req.body)) return req.body;
    if (typeof req.body === 'string') return Buffer.from(req.body);
    if (typeof req.body === 'object' && Object.keys(req.body).length > 0) return req.body;
  }
  const declared = Number(req.headers['content-length']);
  if (declared > limit) throw tooLarge(limit);
  if (req.readableEnded) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let size = 0;
  // A body sent slowly must not hold the request (and the hub's close()) for good: on HTTP/1.1 the
  // server's requestTimeout bounds it, on HTTP/2 nothing else would.
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    req.destroy();
  }, timeoutMs);
  try {
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > limit) {
        req.resume();
        throw tooLarge(limit);
      }
      chunks.push(chunk as Buffer);
    }
  } catch (error) {
    if (timedOut) {
      throw new HubError('request-timeout', `The update's body did not arrive within ${timeoutMs / 1000} s.`);
    }
    // The client went away before its body was all there: nobody to answer, nothing wrong with the hub.
    if ((error as NodeJS.ErrnoException).code === 'ECONNRESET') {
      throw badRequest("The connection closed before the update's body arrived.");
    }
    throw error;
  } finally {
    clearTimeout(timer);
  }
  if (timedOut)
    throw new HubError('request-timeout', `The update's body did not arrive within ${timeoutMs / 1000} s.`);
  return Buffer.concat(chunks, size);
}

function tooLarge(limit: number): HubError {
  return new HubError('payload-too-large', `The update is larger than ${limit} bytes, the hub's limit.`);
}

function badRequest(message: string): HubError {
  return new HubError('bad-request', message);
}

/** Reads the fields of a publish request: a form (the protocol), or JSON (a convenience). */
export function parseUpdate(body: Buffer | object, contentType: string | undefined): UpdateInit {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (!Buffer.isBuffer(body)) {
    // A form a framework parsed (express.urlencoded) keeps the form's rules.
    return fromObject(body as Record<string, unknown>, type === 'application/x-www-form-urlencoded');
  }
  if (type === 'application/x-www-form-urlencoded')
    return fromForm(new URLSearchParams(body.toString('utf8')));
  if (type === 'application/json') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      throw badRequest('The JSON body could not be parsed.');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw badRequest('The JSON body must be an object: {"topic": …, "data": …}.');
    }
    return fromObject(parsed as Record<string, unknown>);
  }
  throw new HubError(
    'unsupported-media-type',
    `Publish with Content-Type application/x-www-form-urlencoded (or application/json), not "${type || 'none'}".`,
  );
}

function single(form: URLSearchParams, name: string): string | undefined {
  const values = form.getAll(name);
  if (values.length > 1) throw badRequest(`The "${name}" field must appear once.`);
  return values[0];
}

function fromForm(form: URLSearchParams): UpdateInit {
  const retry = single(form, 'retry');
  return {
    topics: form.getAll('topic'),
    data: single(form, 'data'),
    id: single(form, 'id'),
    type: single(form, 'type'),
    retry: retry === undefined ? undefined : parseRetry(retry),
    private: form.has('private'),
  };
}

function optionalString(value: unknown, name: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw badRequest(`"${name}" must be a string.`);
  return value;
}

function fromObject(object: Record<string, unknown>, form = false): UpdateInit {
  const topic = object.topic ?? object.topics;
  const topics = typeof topic === 'string' ? [topic] : topic;
  if (topics !== undefined && (!Array.isArray(topics) || topics.some((item) => typeof item !== 'string'))) {
    throw badRequest('"topic" must be a string or an array of strings.');
  }
  const retry = object.retry;
  const isPrivate = object.private;
  return {
    topics: (topics as string[] | undefined) ?? [],
    data: optionalString(object.data, 'data'),
    id: optionalString(object.id, 'id'),
    type: optionalString(object.type, 'type'),
    retry:
      retry === undefined || retry === null
        ? undefined
        : typeof retry === 'string'
          ? parseRetry(retry)
          : (retry as number),
    // A form's `private` counts by its presence, whatever its value; JSON says it with a boolean (or "on").
    private: form
      ? isPrivate !== undefined
      : isPrivate === true || isPrivate === 'on' || isPrivate === 'true',
  };
}

function parseRetry(value: string): number {
  if (!/^[0-9]{1,10}$/.test(value))
    throw badRequest('"retry" must be a non-negative integer (milliseconds).');
  return Number(value);
}

/**
 * Checks an update's shape (every field of its type, at least one topic) and that it cannot break
 * its frame (no CR, LF or NUL in its ID, no CR or LF in its type); makes its ID when absent. The
 * protocol's rules for publishers and the size limits are `checkPublishRules`'.
 */
export function validateUpdate(init: UpdateInit): Update {
  const topics = init.topics;
  if (!Array.isArray(topics) || topics.length === 0) throw badRequest('Missing "topic" parameter.');
  for (const topic of topics) {
    if (typeof topic !== 'string' || topic === '') throw badRequest('A "topic" must be a non-empty string.');
  }
  const data = init.data ?? '';
  if (typeof data !== 'string') throw badRequest('"data" must be a string.');
  const id = init.id === undefined || init.id === '' ? newUpdateId() : init.id;
  if (typeof id !== 'string') throw badRequest('"id" must be a string.');
  if (/[\r\n\0]/.test(id)) throw badRequest('The "id" must not contain CR, LF or NUL.');
  const type = init.type === '' ? undefined : init.type;
  if (type !== undefined && (typeof type !== 'string' || /[\r\n]/.test(type))) {
    throw badRequest('The "type" must be a string without CR or LF.');
  }
  const retry = init.retry;
  if (retry !== undefined && (!Number.isSafeInteger(retry) || retry < 0)) {
    throw badRequest('"retry" must be a non-negative integer (milliseconds).');
  }
  return { id, topics: [...topics], data, type, retry, private: init.private === true };
}

/**
 * The hub URL the host app's own updates (`hub.publish`) are checked against: the publish rules
 * read only its path, which is the same for every URL the hub is reached by.
 */
const APP_HUB_URL = `http://localhost${HUB_PATH}`;

/** What publishing needs of the hub. */
export interface PublishParts {
  readonly settings: HubSettings;
  readonly logger: Logger;
  readonly store: HubStore;
  readonly authorizer: Authorizer;
  readonly lifecycle: HubLifecycle;
  readonly counters: HubCounters;
  readonly metrics: HubMetrics | undefined;
  readonly dashboard: DashboardFeed | undefined;
}

/**
 * The hub's write path: a publish over HTTP (token, body, validation, the 200 with the ID), one from
 * the hosting app, and the hub's own updates, all stored the same way. The store dispatches what it
 * stored (`Subscribers.dispatch`), on every node.
 */
export class Publisher {
  constructor(private readonly parts: PublishParts) {}

  /**
   * `POST /.well-known/mercure`: a token whose publish grants cover every topic of the update, a form
   * (or JSON) body within the limits; answers 200 with the update's ID once the store has it.
   */
  async publishHttp(req: IncomingMessage, res: ServerResponse, request: HubRequest): Promise<void> {
    const { settings, lifecycle, authorizer } = this.parts;
    lifecycle.refuseIfClosing();
    const arrivedAt = performance.now();
    // In flight from the request on, not from its append: close() waits for a body still arriving.
    lifecycle.begin();
    try {
      const auth = await authorizer.authorize(req, request, 'publisher', 'Publishing');
      if (auth === undefined) throw authorizer.missingToken('Publishing');
      if (auth.carrier === 'cookie') checkPublishOrigin(req, settings.publishOrigins);
      const allowed = auth.grants.publish;
      if (allowed === undefined || allowed.length === 0) {
        throw insufficientScope(
          auth.generation === 'draft-07'
            ? 'The token does not allow publishing: its "mercure.publish" claim is missing or empty.'
            : 'The token does not allow publishing: none of its Mercure authorization details has the "publish" action.',
        );
      }
      const body = await readBody(req, settings.limits.maxUpdateBytes, settings.bodyTimeoutMs);
      const update = this.checked(parseUpdate(body, req.headers['content-type']), request.address.hubUrl);
      // Every topic, canonical and alternate: one the token does not cover refuses the whole update.
      for (const topic of update.topics) {
        if (!matchesAny(allowed, topic)) {
          throw insufficientScope(`The token does not allow publishing to the topic "${topic}".`);
        }
      }
      const stored = await this.append(update, arrivedAt);
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
      res.end(stored.id);
    } finally {
      lifecycle.end();
    }
  }

  /** `hub.publish()`: an update from the hosting app, within the same limits, without a token. */
  async publish(init: UpdateInit, arrivedAt: number): Promise<Update> {
    this.parts.lifecycle.refuseIfClosing();
    const {
      seq: _seq,
      frame: _frame,
      ...update
    } = await this.append(this.checked(init, APP_HUB_URL), arrivedAt);
    return update;
  }

  /** A publisher's update, checked: its shape, then the protocol's rules and limits (`publish-rules.ts`). */
  private checked(init: UpdateInit, hubUrl: string): Update {
    const update = validateUpdate(init);
    checkPublishRules(update, hubUrl, this.parts.settings.limits);
    return update;
  }

  /**
   * Stores a valid update; `arrivedAt` (performance.now() when its publish arrived) times it for the
   * dashboard. A store's failure becomes a 503.
   */
  async append(update: Update, arrivedAt?: number): Promise<StoredUpdate> {
    const { store, lifecycle, counters, metrics, dashboard } = this.parts;
    lifecycle.begin();
    if (arrivedAt !== undefined) dashboard?.published(update.id, arrivedAt);
    const started = process.hrtime.bigint();
    try {
      const result = await store.append(update);
      counters.updatesPublished++;
      metrics?.storeAppendSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
      return result;
    } catch (error) {
      throw storeFailed(error, this.parts.logger);
    } finally {
      lifecycle.end();
    }
  }
}
