import type { ClientId } from "./ids.js";

/** Most access changes one replica waits to answer; more are answered `busy`. */
export const maxAccessWaiters = 256;

interface Waiter {
  readonly client: ClientId;
  readonly aid: number;
  age: number;
}

/**
 * The access changes (core/access.ts) a replica logged for a client and answers once the service
 * reports their result (`applied` input, `admin` field). Bounded, and aged out: a change lost
 * with its leader is never answered here, and the client retries it (access changes are
 * idempotent). Pure bookkeeping, shared by every protocol core that orders access changes.
 */
export class AccessWaiters {
  private readonly waiters = new Map<string, Waiter>();

  get size(): number {
    return this.waiters.size;
  }

  get full(): boolean {
    return this.waiters.size >= maxAccessWaiters;
  }

  add(client: ClientId, aid: number): void {
    this.waiters.set(`${client}#${aid}`, { client, aid, age: 0 });
  }

  /** Whether (client, aid) was waiting; it no longer is. */
  take(client: ClientId, aid: number): boolean {
    return this.waiters.delete(`${client}#${aid}`);
  }

  /** One tick: waiters `maxAge` ticks old are forgotten. */
  tick(maxAge: number): void {
    for (const [key, w] of this.waiters) if (++w.age >= maxAge) this.waiters.delete(key);
  }

  clear(): void {
    this.waiters.clear();
  }
}
