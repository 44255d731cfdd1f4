import { type StoredUpdate, stored, type Update } from '../update.js';
import type { UpdateFields, UpdateMessage } from './messages.js';

/** What an update message costs on the channel beyond its data, topics and ID, about. */
const MESSAGE_OVERHEAD_BYTES = 100;

/** An update's fields for the channel (not its frame: each worker encodes its own). */
export function fieldsOf(update: Update): UpdateFields {
  return {
    id: update.id,
    topics: update.topics,
    data: update.data,
    type: update.type,
    retry: update.retry,
    private: update.private,
  };
}

/** A stored update as the channel carries it. */
export function messageOf(update: StoredUpdate): UpdateMessage {
  return { ...fieldsOf(update), seq: update.seq };
}

/** A stored update off the channel, its frame encoded here. */
export function fromMessage(message: UpdateMessage): StoredUpdate {
  const { id, topics, data, type, retry, seq } = message;
  return stored({ id, topics, data, type, retry, private: message.private }, seq);
}

/** What an update costs on the channel, about (for the bounds on a worker's backlog and a replay's pages). */
export function bytesOf(update: Update): number {
  let bytes = MESSAGE_OVERHEAD_BYTES + update.data.length + update.id.length;
  for (const topic of update.topics) bytes += topic.length;
  return bytes;
}
