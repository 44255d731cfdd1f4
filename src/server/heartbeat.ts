/** Something that sends a heartbeat when it has been quiet for a whole interval. */
export interface HeartbeatTarget {
  /** Called once per interval; sends a heartbeat unless something was written since the last call. */
  beat(): void;
}

/** One shared timer for every stream with the same interval, not one timer per stream. */
export class HeartbeatGroup {
  readonly members = new Set<HeartbeatTarget>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly intervalMs: number) {
    this.timer = setInterval(() => this.tick(), intervalMs);
    this.timer.unref();
  }

  private tick(): void {
    for (const member of this.members) member.beat();
  }

  remove(member: HeartbeatTarget): void {
    this.members.delete(member);
    if (this.members.size === 0) {
      clearInterval(this.timer);
      groups.delete(this.intervalMs);
    }
  }
}

const groups = new Map<number, HeartbeatGroup>();

/** Adds `member` to the shared timer of `intervalMs`; returns the group, whose `remove` takes it out. */
export function joinHeartbeat(member: HeartbeatTarget, intervalMs: number): HeartbeatGroup {
  let group = groups.get(intervalMs);
  if (group === undefined) {
    group = new HeartbeatGroup(intervalMs);
    groups.set(intervalMs, group);
  }
  group.members.add(member);
  return group;
}

/** How many shared heartbeat timers run now (one per distinct interval in use). */
export function heartbeatTimers(): number {
  return groups.size;
}
