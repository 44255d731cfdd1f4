import type { Refusal } from './messages.js';

/** The limits the primary admits subscribers by, for the whole hub. */
export interface AdmissionLimits {
  /** Subscribers of the whole hub at once. */
  maxSubscribers: number;
  /** Subscribers of the whole hub from one client address at once. */
  maxSubscribersPerAddress: number;
}

/** One worker's share of the count. */
interface Member {
  /** Subscribers its descriptors allow (its own `ulimit -n`, less a reserve). */
  capacity: number;
  count: number;
  perAddress: Map<string, number>;
}

function add(map: Map<string, number>, key: string, delta: number): void {
  const value = (map.get(key) ?? 0) + delta;
  if (value <= 0) map.delete(key);
  else map.set(key, value);
}

/**
 * The subscribers of the whole hub, counted in the primary, which every worker asks before it lets
 * one in: the hub's limit, an address's limit and each worker's own capacity hold for the hub as a
 * whole, exactly, however connections are spread over the workers. (Splitting the limits between
 * workers instead would refuse an address its last subscriptions whenever they happen to land on
 * the same worker, and a limit smaller than the workers' number could not be split at all.) The
 * price is one message each way per subscriber, which workers send in batches.
 */
export class HubAdmission {
  private total = 0;
  private readonly perAddress = new Map<string, number>();
  private readonly members = new Map<number, Member>();

  constructor(private readonly limits: AdmissionLimits) {}

  /** Subscribers admitted now, over every worker. */
  get size(): number {
    return this.total;
  }

  /** Starts counting for a worker that holds at most `capacity` subscribers. */
  join(worker: number, capacity: number): void {
    this.members.set(worker, { capacity, count: 0, perAddress: new Map() });
  }

  /** Admits one subscriber from `address` on `worker`, or says why not. */
  admit(worker: number, address: string): Refusal | null {
    const member = this.members.get(worker);
    if (member === undefined) return { code: 'unavailable', message: 'This worker of the hub is not ready.' };
    const { maxSubscribers, maxSubscribersPerAddress } = this.limits;
    if (this.total >= maxSubscribers) {
      return {
        code: 'unavailable',
        message: `The hub holds its maximum of ${maxSubscribers} subscribers. Try again later.`,
      };
    }
    if ((this.perAddress.get(address) ?? 0) >= maxSubscribersPerAddress) {
      return {
        code: 'too-many-requests',
        message: `Too many subscriptions from ${address} (the limit is ${maxSubscribersPerAddress}).`,
      };
    }
    if (member.count >= member.capacity) {
      return {
        code: 'unavailable',
        message: `Worker ${worker} of the hub holds the ${member.capacity} subscribers its open-file limit allows. Try again: another worker may take it.`,
      };
    }
    this.total++;
    member.count++;
    add(this.perAddress, address, 1);
    add(member.perAddress, address, 1);
    return null;
  }

  /** A subscriber `admit` let in on `worker` left. */
  leave(worker: number, address: string): void {
    const member = this.members.get(worker);
    if (member === undefined || !member.perAddress.has(address)) return;
    this.total--;
    member.count--;
    add(this.perAddress, address, -1);
    add(member.perAddress, address, -1);
  }

  /** The worker is gone, and its subscribers with it. */
  drop(worker: number): void {
    const member = this.members.get(worker);
    if (member === undefined) return;
    this.members.delete(worker);
    this.total -= member.count;
    for (const [address, count] of member.perAddress) add(this.perAddress, address, -count);
  }
}
