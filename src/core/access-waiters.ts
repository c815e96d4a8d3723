import type { MembershipOp } from "./admin-authorization.js";
import type { ClientId } from "./ids.js";

/** Most access changes one replica waits to answer; more are answered `busy`. */
export const maxAccessWaiters = 256;

export interface AccessWaiter {
  readonly client: ClientId;
  readonly aid: number;
  /** For an authorization (admin-authorization.ts): the operation to carry out once approved. */
  readonly op?: MembershipOp;
  age: number;
}

/**
 * The access changes (core/access.ts) and authorizations (core/admin-authorization.ts) a replica
 * logged for a client and answers (or carries out) once the service reports their result (`applied` input, `admin` field). Bounded, and aged out: a change lost
 * with its leader is never answered here, and the client retries it (access changes are
 * idempotent). Pure bookkeeping, shared by every protocol core that orders access changes.
 */
export class AccessWaiters {
  private readonly waiters = new Map<string, AccessWaiter>();

  get size(): number {
    return this.waiters.size;
  }

  get full(): boolean {
    return this.waiters.size >= maxAccessWaiters;
  }

  add(client: ClientId, aid: number, op?: MembershipOp): void {
    this.waiters.set(
      `${client}#${aid}`,
      op ? { client, aid, op, age: 0 } : { client, aid, age: 0 },
    );
  }

  /** The waiter of (client, aid), if it was waiting; it no longer is. */
  take(client: ClientId, aid: number): AccessWaiter | undefined {
    const key = `${client}#${aid}`;
    const w = this.waiters.get(key);
    this.waiters.delete(key);
    return w;
  }

  /** One tick: waiters `maxAge` ticks old are forgotten. */
  tick(maxAge: number): void {
    for (const [key, w] of this.waiters) if (++w.age >= maxAge) this.waiters.delete(key);
  }

  clear(): void {
    this.waiters.clear();
  }
}
