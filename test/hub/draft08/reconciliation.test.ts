// The cursor of a subscription in both generations' spellings, and the answer's two headers.
import { describe, expect, it } from 'vitest';
import { lastEventIdHeaders, requestedLastEventId } from '../../../src/hub/reconciliation.js';

describe('reconciliation', () => {
  it('reads Last-Event-ID first, then last_event_id, then lastEventID; empty is none', () => {
    const query = new URLSearchParams({ last_event_id: 'q8', lastEventID: 'q7' });
    expect(requestedLastEventId({ 'last-event-id': 'h' }, query)).toBe('h');
    expect(requestedLastEventId({}, query)).toBe('q8');
    expect(requestedLastEventId({}, new URLSearchParams({ lastEventID: 'q7' }))).toBe('q7');
    expect(
      requestedLastEventId({ 'last-event-id': '' }, new URLSearchParams({ last_event_id: '' })),
    ).toBeUndefined();
    expect(requestedLastEventId({}, new URLSearchParams())).toBeUndefined();
  });

  it('answers with Mercure-Last-Event-ID and Last-Event-ID alike', () => {
    expect(lastEventIdHeaders('earliest')).toEqual({
      'mercure-last-event-id': 'earliest',
      'last-event-id': 'earliest',
    });
  });
});
