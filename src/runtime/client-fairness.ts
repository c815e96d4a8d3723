import type { ClientReplyMessage, ReplyResult } from "../core/client-messages.js";
import type { ClientId, ReplicaId } from "../core/ids.js";
import { isPlainObject } from "../core/schema.js";

/**
 * Per-client fairness at a replica (issue 15): one authenticated client, hostile or runaway,
 * must not starve the others. Each principal (the key a connection authenticated with; all the
 * sessions it speaks for count together) may have at most `outstanding` requests unanswered
 * here, speak for at most `sessions` sessions with requests outstanding, and send at most
 * `bytesPerSecond` of requests (a token bucket holding one second). A request over a limit is
 * answered `busy` at once, with a retry hint, before it costs the protocol anything: the client
 * retries it later with the same sequence number, so nothing is lost or done twice.
 */
export interface ClientLimits {
  readonly outstanding: number;
  readonly sessions: number;
  readonly bytesPerSecond: number;
}

export const defaultClientLimits: ClientLimits = {
  outstanding: 128,
  sessions: 64,
  bytesPerSecond: 32 * 1024 * 1024,
};

/** Requests unanswered this long no longer count (their reply was lost or never owed). */
const staleMs = 10_000;
/**
 * The retry hint over the outstanding or session limit: long enough that a client over its share
 * does not spin (each refusal still costs the replica a decode and a reply), short next to the
 * client's own timeout.
 */
const outstandingRetryMs = 200;
/** Principals tracked at once; the least recently active is forgotten first. */
const maxPrincipals = 10_000;

interface Outstanding {
  readonly session: ClientId;
  readonly at: number;
}

interface PrincipalState {
  readonly outstanding: Map<string, Outstanding>;
  /** Outstanding requests per session. */
  readonly sessions: Map<ClientId, number>;
  tokens: number;
  refilledAt: number;
}

/** Why requests were answered `busy` by the fairness limits, for metrics. */
export interface FairnessCounters {
  outstanding: number;
  sessions: number;
  bytes: number;
}

/** The key of a request and of the reply that answers it. */
function requestKey(msg: unknown): { session: ClientId; key: string } | undefined {
  if (!isPlainObject(msg) || typeof msg.client !== "string") return undefined;
  const id =
    msg.type === "request" || msg.type === "reply"
      ? msg.seq
      : msg.type === "query" || msg.type === "queryReply"
        ? msg.qid
        : msg.type === "admin" || msg.type === "adminReply"
          ? msg.aid
          : undefined;
  if (typeof id !== "number") return undefined;
  const kind = msg.type === "request" || msg.type === "reply" ? "c" : String(msg.type)[0];
  return { session: msg.client, key: `${kind}${id}:${msg.client}` };
}

export class ClientFairness {
  private readonly principals = new Map<ClientId, PrincipalState>();
  /** Which principal each outstanding request key belongs to. */
  private readonly owner = new Map<string, ClientId>();
  readonly refused: FairnessCounters = { outstanding: 0, sessions: 0, bytes: 0 };

  constructor(readonly limits: ClientLimits = defaultClientLimits) {}

  /**
   * Admits a request of `principal` (`bytes` on the wire) at monotonic time `now` (ms), or
   * returns the `busy` answer to send instead. `leader`: the hint that keeps the client here.
   */
  admit(
    principal: ClientId,
    msg: unknown,
    bytes: number,
    now: number,
    leader: ReplicaId | undefined,
  ): ClientReplyMessage | undefined {
    const id = requestKey(msg);
    if (!id) return undefined; // other protocols' wires: not tracked
    const state = this.stateOf(principal, now);
    // Bytes first: every frame costs them, retries included.
    state.tokens = Math.min(
      this.limits.bytesPerSecond,
      state.tokens + ((now - state.refilledAt) * this.limits.bytesPerSecond) / 1000,
    );
    state.refilledAt = now;
    if (bytes > state.tokens) {
      this.refused.bytes++;
      const waitMs = Math.ceil(((bytes - state.tokens) * 1000) / this.limits.bytesPerSecond);
      return busy(
        msg,
        `client ${principal} is over ${this.limits.bytesPerSecond} request bytes per second`,
        waitMs,
        leader,
      );
    }
    state.tokens -= bytes;
    if (state.outstanding.has(id.key)) return undefined; // a retry: already counted
    if (state.outstanding.size >= this.limits.outstanding) this.sweep(principal, state, now);
    if (state.outstanding.size >= this.limits.outstanding) {
      this.refused.outstanding++;
      return busy(
        msg,
        `client ${principal} has ${state.outstanding.size} requests outstanding here (limit ${this.limits.outstanding})`,
        outstandingRetryMs,
        leader,
      );
    }
    if (!state.sessions.has(id.session) && state.sessions.size >= this.limits.sessions) {
      this.refused.sessions++;
      return busy(
        msg,
        `client ${principal} has ${state.sessions.size} sessions with requests outstanding (limit ${this.limits.sessions})`,
        outstandingRetryMs,
        leader,
      );
    }
    state.outstanding.set(id.key, { session: id.session, at: now });
    state.sessions.set(id.session, (state.sessions.get(id.session) ?? 0) + 1);
    this.owner.set(id.key, principal);
    return undefined;
  }

  /** A reply leaves: the request it answers no longer counts. */
  answered(msg: unknown): void {
    const id = requestKey(msg);
    if (!id) return;
    const principal = this.owner.get(id.key);
    if (principal === undefined) return;
    const state = this.principals.get(principal);
    if (state) this.forget(state, id.key);
    this.owner.delete(id.key);
  }

  /** Requests outstanding here, over every principal (for status). */
  get outstanding(): number {
    return this.owner.size;
  }

  private stateOf(principal: ClientId, now: number): PrincipalState {
    let state = this.principals.get(principal);
    if (state) {
      // Re-inserted: the first entry is always the least recently active.
      this.principals.delete(principal);
      this.principals.set(principal, state);
      return state;
    }
    while (this.principals.size >= maxPrincipals) {
      const [oldest, old] = this.principals.entries().next().value!;
      for (const key of old.outstanding.keys()) this.owner.delete(key);
      this.principals.delete(oldest);
    }
    state = {
      outstanding: new Map(),
      sessions: new Map(),
      tokens: this.limits.bytesPerSecond,
      refilledAt: now,
    };
    this.principals.set(principal, state);
    return state;
  }

  private forget(state: PrincipalState, key: string): void {
    const o = state.outstanding.get(key);
    if (!o) return;
    state.outstanding.delete(key);
    const left = (state.sessions.get(o.session) ?? 1) - 1;
    if (left <= 0) state.sessions.delete(o.session);
    else state.sessions.set(o.session, left);
  }

  /** Drops requests unanswered for longer than staleMs (in insertion order: oldest first). */
  private sweep(_principal: ClientId, state: PrincipalState, now: number): void {
    for (const [key, o] of state.outstanding) {
      if (now - o.at < staleMs) break;
      this.forget(state, key);
      this.owner.delete(key);
    }
  }
}

function busy(
  msg: unknown,
  why: string,
  retryAfterMs: number,
  leader: ReplicaId | undefined,
): ClientReplyMessage | undefined {
  const m = msg as { type: string; client: ClientId; seq?: number; qid?: number; aid?: number };
  const result: ReplyResult = {
    ok: false,
    error: "busy",
    message: `${why}; retry in ${retryAfterMs} ms`,
    retryAfterMs,
    ...(leader === undefined ? {} : { leader }),
  };
  if (m.type === "request") return { type: "reply", client: m.client, seq: m.seq!, result };
  if (m.type === "query") return { type: "queryReply", client: m.client, qid: m.qid!, result };
  if (m.type === "admin") return { type: "adminReply", client: m.client, aid: m.aid!, result };
  return undefined;
}
