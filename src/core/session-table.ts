import type { ReplyResult } from "./client-messages.js";
import type { ClientId, Seq } from "./ids.js";
import type { Value } from "./value.js";

export interface SessionLimits {
  /** A session idle this long (by log time, not wall time) is forgotten. */
  readonly ttlMs: number;
  /** At most this many sessions; opening one more forgets the least recently active. */
  readonly maxSessions: number;
  /** At most this many executed-but-unacknowledged commands per session. */
  readonly maxOutstanding: number;
}

export const defaultSessionLimits: SessionLimits = {
  ttlMs: 10 * 60_000,
  maxSessions: 100_000,
  maxOutstanding: 256,
};

interface Session {
  lastActive: number;
  /** The client holds results for every seq below this; they are forgotten. */
  ackedBelow: Seq;
  /** Results of executed commands with seq ≥ ackedBelow. Every executed seq ≥ ackedBelow is here. */
  readonly results: Map<Seq, ReplyResult>;
}

/** What the session table decides about one logged command before it reaches the service. */
export type SessionDecision =
  | { readonly kind: "execute" }
  /** `repeated`: the command was executed before and this is its recorded result. */
  | { readonly kind: "answer"; readonly result: ReplyResult; readonly repeated?: boolean };

/**
 * Exactly-once semantics (Raft dissertation 6.3): a replicated table of client sessions that
 * remembers the result of each executed command until the client acknowledges it, so a retry
 * returns the first result instead of executing twice. It is replicated state: it changes only
 * in `apply` order, expires sessions by log time, and is part of every snapshot.
 */
export class SessionTable {
  // Map iteration order is insertion order; we re-insert on activity, so the first entry is
  // always the least recently active. That makes expiry and eviction O(1) and deterministic.
  private readonly sessions = new Map<ClientId, Session>();

  constructor(readonly limits: SessionLimits = defaultSessionLimits) {}

  get size(): number {
    return this.sessions.size;
  }

  has(client: ClientId): boolean {
    return this.sessions.has(client);
  }

  /** Whether command `seq` of `client` ran and its result is still held (read-only). */
  hasResult(client: ClientId, seq: Seq): boolean {
    return this.sessions.get(client)?.results.has(seq) ?? false;
  }

  /** Forgets sessions idle for longer than the ttl at log time `now`. */
  expire(now: number): void {
    for (const [client, session] of this.sessions) {
      if (session.lastActive + this.limits.ttlMs >= now) break;
      this.sessions.delete(client);
    }
  }

  /** Opens a session (idempotent: re-opening an open session keeps its state). */
  open(client: ClientId, now: number): ReplyResult {
    const existing = this.sessions.get(client);
    if (existing) {
      this.touch(client, existing, now);
      return { ok: true, value: null };
    }
    while (this.sessions.size >= this.limits.maxSessions) {
      const oldest = this.sessions.keys().next().value;
      if (oldest === undefined) break;
      this.sessions.delete(oldest);
    }
    this.sessions.set(client, { lastActive: now, ackedBelow: 1, results: new Map() });
    return { ok: true, value: null };
  }

  /** Decides whether command `seq` of `client` runs, or what it answers without running. */
  check(client: ClientId, seq: Seq, ackedBelow: Seq, now: number): SessionDecision {
    const session = this.sessions.get(client);
    if (!session) {
      return { kind: "answer", result: { ok: false, error: "session-expired" } };
    }
    this.touch(client, session, now);
    if (ackedBelow > session.ackedBelow) {
      for (const done of session.results.keys())
        if (done < ackedBelow) session.results.delete(done);
      session.ackedBelow = ackedBelow;
    }
    const cached = session.results.get(seq);
    if (cached) return { kind: "answer", result: cached, repeated: true };
    if (seq < session.ackedBelow) return { kind: "answer", result: { ok: false, error: "stale" } };
    if (session.results.size >= this.limits.maxOutstanding) {
      return { kind: "answer", result: { ok: false, error: "too-many-outstanding" } };
    }
    return { kind: "execute" };
  }

  /** Records the result of an executed command. Must follow a `check` that said execute. */
  record(client: ClientId, seq: Seq, result: ReplyResult): void {
    const session = this.sessions.get(client);
    if (!session) throw new Error(`session table: record for unknown session ${client}`);
    if (session.results.has(seq)) throw new Error(`session table: ${client}#${seq} executed twice`);
    session.results.set(seq, result);
  }

  private touch(client: ClientId, session: Session, now: number): void {
    session.lastActive = now;
    this.sessions.delete(client);
    this.sessions.set(client, session);
  }

  /** A plain, deterministic description of the table for snapshots (LRU order is kept). */
  toValue(): Value {
    const out: Value[] = [];
    for (const [client, s] of this.sessions) {
      const results: Value[] = [];
      for (const [seq, result] of [...s.results].sort((a, b) => a[0] - b[0])) {
        results.push([seq, result as unknown as Value]);
      }
      out.push([client, s.lastActive, s.ackedBelow, results]);
    }
    return out;
  }

  static fromValue(v: Value, limits: SessionLimits): SessionTable {
    const table = new SessionTable(limits);
    if (!Array.isArray(v)) throw new Error("session table snapshot: expected an array");
    for (const row of v as readonly Value[]) {
      if (!Array.isArray(row) || row.length !== 4)
        throw new Error("session table snapshot: bad row");
      const [client, lastActive, ackedBelow, results] = row as readonly Value[];
      if (
        typeof client !== "string" ||
        typeof lastActive !== "number" ||
        typeof ackedBelow !== "number" ||
        !Array.isArray(results)
      ) {
        throw new Error("session table snapshot: bad row fields");
      }
      const map = new Map<Seq, ReplyResult>();
      for (const pair of results as readonly Value[]) {
        if (!Array.isArray(pair) || typeof pair[0] !== "number" || typeof pair[1] !== "object") {
          throw new Error("session table snapshot: bad result");
        }
        map.set(pair[0] as number, pair[1] as unknown as ReplyResult);
      }
      table.sessions.set(client, { lastActive, ackedBelow, results: map });
    }
    return table;
  }
}
