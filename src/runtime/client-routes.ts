import type { ClientId } from "../core/ids.js";

/**
 * Which authenticated connection a session's replies go to.
 *
 * A client authenticates as principal `c:<id>` (its key file), but its requests name a
 * *session*: `<id>` itself, or `<id>.<suffix>`. The client library opens a fresh session per
 * process (`<id>.<random>`), and the leader client opens `<session>.<n>` after its session
 * expired; a session id must never be reused by a new process, or it would get the old
 * process's cached results. So a connection of `c:alice` may speak for `alice` and `alice.*`,
 * and replies to session `alice.x.1` go to the connection of `alice`.
 */
export class ClientRoutes {
  private readonly routes = new Map<ClientId, ClientId>();

  constructor(private readonly maxRoutes = 100_000) {}

  /** Whether a connection authenticated as `principal` may speak for session `session`. */
  static mayUse(principal: ClientId, session: ClientId): boolean {
    return session === principal || session.startsWith(`${principal}.`);
  }

  /** Remembers where replies for `session` go (the latest connection it spoke on). */
  learn(session: ClientId, principal: ClientId): void {
    if (session === principal) return;
    const known = this.routes.get(session);
    if (known === principal) {
      // Refresh recency so that eviction forgets idle sessions first.
      this.routes.delete(session);
      this.routes.set(session, principal);
      return;
    }
    if (this.routes.size >= this.maxRoutes) {
      const oldest = this.routes.keys().next().value;
      if (oldest !== undefined) this.routes.delete(oldest);
    }
    this.routes.set(session, principal);
  }

  /** The principal whose connection carries replies for `session`. */
  principalOf(session: ClientId): ClientId {
    return this.routes.get(session) ?? session;
  }

  get size(): number {
    return this.routes.size;
  }
}
