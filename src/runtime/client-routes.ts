import type { ClientId } from "../core/ids.js";
import { sessionOwner } from "../net/client-signing.js";
import type { ClientRoute, ClientTarget } from "../net/transport.js";

/**
 * Which authenticated connection a session's replies go to.
 *
 * A client authenticates as principal `c:<id>` (its key file), but its requests name a
 * *session*: `<id>` itself, or `<id>.<suffix>`. The client library opens a fresh session per
 * process (`<id>.<random>`), and the leader client opens `<session>.<n>` after its session
 * expired; a session id must never be reused by a new process, or it would get the old
 * process's cached results. So a connection of `c:alice` may speak for `alice` and `alice.*`.
 * Several connections may share one key (processes, client objects); each has its own route,
 * and replies to a session go to the connection it last spoke on, or, once that one is gone, to
 * the principal's newest connection (the transport's fallback).
 */
export class ClientRoutes {
  private readonly routes = new Map<ClientId, { client: ClientId; route: ClientRoute }>();

  constructor(private readonly maxRoutes = 100_000) {}

  /** Whether a connection authenticated as `principal` may speak for session `session`. */
  static mayUse(principal: ClientId, session: ClientId): boolean {
    return session === principal || session.startsWith(`${principal}.`);
  }

  /** Remembers where replies for `session` go: connection `route` of principal `client`. */
  learn(session: ClientId, client: ClientId, route: ClientRoute): void {
    const known = this.routes.get(session);
    if (known !== undefined) {
      // Re-inserting refreshes recency, so that eviction forgets idle sessions first. Every
      // request passes here: the entry is kept unless the session moved to another connection.
      this.routes.delete(session);
      this.routes.set(session, known.route === route ? known : { client, route });
      return;
    }
    if (this.routes.size >= this.maxRoutes) {
      const oldest = this.routes.keys().next().value;
      if (oldest !== undefined) this.routes.delete(oldest);
    }
    this.routes.set(session, { client, route });
  }

  /**
   * Where replies for `session` go. Unknown sessions go to the newest connection of the
   * session's owner (sessionOwner: `alice` for `alice.<12 hex>`): in PBFT a backup executes
   * requests that reached it only through the primary, and its reply must still reach the
   * client, which the client's connection to it allows. Replies name their session, so a
   * connection of the owner that serves another session drops them.
   */
  targetOf(session: ClientId): ClientTarget {
    return this.routes.get(session) ?? sessionOwner(session);
  }

  get size(): number {
    return this.routes.size;
  }
}
