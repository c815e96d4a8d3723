import type {
  AdminOp,
  ClientReplyMessage,
  ClientRequestMessage,
  ReplyResult,
} from "./client-messages.js";
import type { ClientOperation } from "./client-operation.js";
import type { ClientId, ReplicaId } from "./ids.js";
import type { ClientCore, ClientInput, ClientOptions, ClientOutput } from "./protocol.js";

/** Messages of the leader-based protocols (single, raft, primary-backup) as the client sees them. */
export interface LeaderClientWire {
  readonly peer: never;
  readonly request: ClientRequestMessage;
  readonly response: ClientReplyMessage;
}

type PendingKind = "command" | "query" | "admin";

interface Pending {
  readonly opId: number;
  readonly kind: PendingKind;
  /** seq for commands, qid for queries, aid for admin requests. */
  readonly key: number;
  readonly op: ClientOperation | AdminOp;
  /** Tick at which to send again if no answer came. */
  resendAt: number;
  /** The replica the last copy went to. */
  sentTo: ReplicaId | undefined;
}

const maxInFlightCommands = 128;

/**
 * The client side of a leader-based protocol: one session (registered with seq 0), commands
 * numbered 1, 2, 3…, sent to the replica believed to lead and re-sent with the same sequence
 * number after a timeout or a redirect, so a command executes at most once however often it
 * travels. Queries and admin requests are retried the same way.
 */
export class LeaderClient implements ClientCore<LeaderClientWire> {
  private id: ClientId;
  private generation = 0;
  private readonly replicas: readonly ReplicaId[];
  private leader: ReplicaId;
  private ticks = 0;
  private readonly retryTicks: number;
  private session: "none" | "opening" | "open" = "none";
  private sessionResendAt = 0;
  private registerSentTo: ReplicaId | undefined;
  private nextSeq = 1;
  private nextQid = 1;
  private nextAid = 1;
  private readonly pending = new Map<string, Pending>();
  /** Invocations waiting for the session or for room in the in-flight window. */
  private readonly waiting: { opId: number; op: ClientOperation | AdminOp; kind: PendingKind }[] =
    [];
  private inFlightCommands = 0;

  constructor(private readonly options: ClientOptions) {
    this.id = options.clientId;
    this.replicas = options.config.replicas.map((r) => r.id);
    if (this.replicas.length === 0) throw new Error("leader client: no replicas");
    this.leader = this.replicas[options.random.int(this.replicas.length)]!;
    this.retryTicks = options.retryTicks ?? 20;
  }

  get clientId(): ClientId {
    return this.id;
  }

  step(input: ClientInput<LeaderClientWire>): readonly ClientOutput<LeaderClientWire>[] {
    const out: ClientOutput<LeaderClientWire>[] = [];
    switch (input.type) {
      case "invoke":
        this.waiting.push({ opId: input.opId, op: input.op, kind: input.op.kind });
        break;
      case "admin":
        this.waiting.push({ opId: input.opId, op: input.admin, kind: "admin" });
        break;
      case "tick":
        this.ticks++;
        this.onTick(out);
        break;
      case "response":
        this.onResponse(input.from, input.msg, out);
        break;
    }
    this.pump(out);
    return out;
  }

  private onTick(out: ClientOutput<LeaderClientWire>[]): void {
    // No answer in time: the replica may be down or partitioned away, so try the next one, but
    // only if nothing (a redirect, another timeout this tick) has moved us off it already.
    if (this.session === "opening" && this.ticks >= this.sessionResendAt) {
      if (this.registerSentTo === this.leader) this.rotate();
      this.sendRegister(out);
    }
    for (const p of this.pending.values()) {
      if (this.ticks >= p.resendAt) {
        if (p.sentTo === this.leader) this.rotate();
        this.send(p, out);
      }
    }
  }

  private rotate(): void {
    const at = this.replicas.indexOf(this.leader);
    this.leader = this.replicas[(at + 1) % this.replicas.length]!;
  }

  private pump(out: ClientOutput<LeaderClientWire>[]): void {
    if (this.waiting.length === 0) return;
    if (this.session === "none") {
      this.session = "opening";
      this.sendRegister(out);
    }
    if (this.session !== "open") return;
    while (this.waiting.length > 0) {
      const next = this.waiting[0]!;
      if (next.kind === "command" && this.inFlightCommands >= maxInFlightCommands) break;
      this.waiting.shift();
      let key: number;
      if (next.kind === "command") {
        key = this.nextSeq++;
        this.inFlightCommands++;
      } else if (next.kind === "query") {
        key = this.nextQid++;
      } else {
        key = this.nextAid++;
      }
      const p: Pending = {
        opId: next.opId,
        kind: next.kind,
        key,
        op: next.op,
        resendAt: 0,
        sentTo: undefined,
      };
      this.pending.set(`${next.kind}:${key}`, p);
      this.send(p, out);
    }
  }

  private sendRegister(out: ClientOutput<LeaderClientWire>[]): void {
    this.sessionResendAt = this.ticks + this.retryTicks;
    this.registerSentTo = this.leader;
    out.push({
      type: "send",
      to: this.leader,
      msg: { type: "request", client: this.id, seq: 0, ackedBelow: 0, cmd: null },
    });
  }

  private ackedBelow(): number {
    let lowest = this.nextSeq;
    for (const p of this.pending.values())
      if (p.kind === "command" && p.key < lowest) lowest = p.key;
    return lowest;
  }

  private send(p: Pending, out: ClientOutput<LeaderClientWire>[]): void {
    p.resendAt = this.ticks + this.retryTicks;
    p.sentTo = this.leader;
    let msg: ClientRequestMessage;
    if (p.kind === "command") {
      const op = p.op as ClientOperation;
      msg = {
        type: "request",
        client: this.id,
        seq: p.key,
        ackedBelow: this.ackedBelow(),
        cmd: op.value,
      };
    } else if (p.kind === "query") {
      msg = { type: "query", client: this.id, qid: p.key, q: (p.op as ClientOperation).value };
    } else {
      msg = { type: "admin", client: this.id, aid: p.key, admin: p.op as AdminOp };
    }
    out.push({ type: "send", to: this.leader, msg });
  }

  private onResponse(
    from: ReplicaId,
    msg: ClientReplyMessage,
    out: ClientOutput<LeaderClientWire>[],
  ): void {
    if (msg.client !== this.id) return; // an answer for an earlier session of ours
    if (msg.type === "reply" && msg.seq === 0) {
      this.onRegisterReply(from, msg.result, out);
      return;
    }
    const kind: PendingKind =
      msg.type === "reply" ? "command" : msg.type === "queryReply" ? "query" : "admin";
    const key = msg.type === "reply" ? msg.seq : msg.type === "queryReply" ? msg.qid : msg.aid;
    const p = this.pending.get(`${kind}:${key}`);
    if (!p) return; // duplicate or late answer
    const result = msg.result;
    if (!result.ok && (result.error === "not-leader" || result.error === "busy")) {
      this.redirect(from, result.leader);
      // With a hint, go there now; without one, an election is probably running: wait a little.
      if (result.error === "not-leader" && result.leader !== undefined) {
        this.send(p, out);
      } else if (result.retryAfterMs !== undefined) {
        // The replica said when (its per-client limits): wait that long, at least a tick.
        p.resendAt =
          this.ticks + Math.max(1, Math.ceil(result.retryAfterMs / this.options.config.tickMs));
      } else {
        p.resendAt = this.ticks + Math.max(1, this.retryTicks >> 2);
      }
      return;
    }
    this.leader = from;
    this.pending.delete(`${kind}:${key}`);
    if (kind === "command") this.inFlightCommands--;
    if (!result.ok && result.error === "session-expired") {
      // The session was forgotten, so whether this command ran before that is unknown.
      out.push({ type: "done", opId: p.opId, result, indeterminate: true });
      this.restartSession(out);
      return;
    }
    const indeterminate = !result.ok && result.error === "stale";
    out.push(
      indeterminate
        ? { type: "done", opId: p.opId, result, indeterminate }
        : { type: "done", opId: p.opId, result },
    );
  }

  private onRegisterReply(
    from: ReplicaId,
    result: ReplyResult,
    out: ClientOutput<LeaderClientWire>[],
  ): void {
    if (this.session !== "opening") return;
    if (!result.ok && result.error === "forbidden") {
      // A revoked client may open no session: what waits for one fails now, with the reason,
      // instead of retrying until it times out. Nothing was sent, so nothing took effect.
      this.session = "none";
      for (const w of this.waiting.splice(0)) out.push({ type: "done", opId: w.opId, result });
      return;
    }
    if (!result.ok) {
      this.redirect(from, result.leader);
      if (result.error === "not-leader" && result.leader !== undefined) this.sendRegister(out);
      else this.sessionResendAt = this.ticks + Math.max(1, this.retryTicks >> 2);
      return;
    }
    this.leader = from;
    this.session = "open";
  }

  private redirect(from: ReplicaId, hint: ReplicaId | undefined): void {
    if (hint !== undefined && this.replicas.includes(hint)) {
      this.leader = hint;
    } else if (this.leader === from) {
      this.rotate();
    }
  }

  /**
   * Opens a fresh session under a new id. Commands still pending in the old session cannot be
   * retried safely (a retry under a new id could run twice), so they finish as indeterminate.
   */
  private restartSession(out: ClientOutput<LeaderClientWire>[]): void {
    this.generation++;
    this.id = `${this.options.clientId}.${this.generation}`;
    this.session = "none";
    this.nextSeq = 1;
    for (const [k, p] of this.pending) {
      if (p.kind !== "command") continue;
      this.pending.delete(k);
      this.inFlightCommands--;
      out.push({
        type: "done",
        opId: p.opId,
        result: { ok: false, error: "session-expired" },
        indeterminate: true,
      });
    }
  }
}

export function createLeaderClient(options: ClientOptions): LeaderClient {
  return new LeaderClient(options);
}
