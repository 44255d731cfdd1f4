// The primary's count of the whole hub's subscribers: its limits hold whichever worker asks.
import { describe, expect, it } from 'vitest';
import { HubAdmission } from '../../src/hub/cluster/admission.js';

describe('HubAdmission', () => {
  it("holds the hub's limit and an address's limit over every worker", () => {
    const admission = new HubAdmission({ maxSubscribers: 5, maxSubscribersPerAddress: 2 });
    admission.join(1, 100);
    admission.join(2, 100);
    expect(admission.admit(1, 'a')).toBeNull();
    expect(admission.admit(2, 'a')).toBeNull();
    // The address's third, on either worker.
    expect(admission.admit(1, 'a')?.code).toBe('too-many-requests');
    expect(admission.admit(2, 'a')?.message).toBe('Too many subscriptions from a (the limit is 2).');
    for (const address of ['b', 'c', 'd'])
      expect(admission.admit(address === 'c' ? 2 : 1, address)).toBeNull();
    expect(admission.size).toBe(5);
    expect(admission.admit(2, 'e')).toEqual({
      code: 'unavailable',
      message: 'The hub holds its maximum of 5 subscribers. Try again later.',
    });
    admission.leave(2, 'a');
    expect(admission.admit(1, 'a')).toBeNull();
  });

  it("holds each worker's capacity, and forgets a worker's subscribers when it is gone", () => {
    const admission = new HubAdmission({ maxSubscribers: 100, maxSubscribersPerAddress: 100 });
    admission.join(1, 2);
    admission.join(2, 2);
    expect(admission.admit(1, 'a')).toBeNull();
    expect(admission.admit(1, 'a')).toBeNull();
    expect(admission.admit(1, 'a')?.message).toMatch(
      /^Worker 1 of the hub holds the 2 subscribers its open-file limit allows/,
    );
    expect(admission.admit(2, 'a')).toBeNull();
    // A leave from a worker that admitted nothing from there changes nothing.
    admission.leave(2, 'z');
    admission.drop(1);
    expect(admission.size).toBe(1);
    expect(admission.admit(1, 'a')?.message).toBe('This worker of the hub is not ready.');
    admission.join(1, 2);
    expect(admission.admit(1, 'a')).toBeNull();
    expect(admission.size).toBe(2);
  });
});
