import { isAccessChange } from "../../core/access.js";
import { type ReplyResult, replyResultSchema } from "../../core/client-messages.js";
import type { Crypto } from "../../core/crypto.js";
import { toHex } from "../../core/crypto.js";
import type { ClientId, ReplicaId } from "../../core/ids.js";
import type { ClientCore, ClientInput, ClientOptions, ClientOutput } from "../../core/protocol.js";
import type { Value } from "../../core/value.js";
import { signRequest, verifyReply } from "./authenticator.js";
import { ReplyVoter } from "./client-voter.js";
import type { Digest, Reply, ReplyConfig, Request } from "./messages.js";
import type { PbftPlantedBug } from "./planted-bugs.js";
import { membersOf, primaryOf, type Quorums, quorumsForMembers } from "./quorum.js";
import { minMembers, type PbftSettings, parsePbftSettings } from "./settings.js";
import { opValue, type PbftOp, type PbftWire } from "./wire.js";

type Out = ClientOutput<PbftWire>;

interface Pending {
  readonly opId: number | undefined;
  readonly op: PbftOp;
  readonly request: Request;
  /** Votes of the members the client knows; replaced when it learns a new membership. */
  voter: ReplyVoter | undefined;
  resendAt: number;
  attempts: number;
}

/** Ordered commands a client keeps in flight at once. */
const maxInFlight = 128;
/** Decided requests whose late replies are still checked against the winning result. */
const recentDecisions = 1024;
/** Ticks to wait for the designated replica's full result once enough digests agree. */
const fullResultGraceTicks = 2;
/** Read-only attempts before the query is ordered instead (§5.1.3). */
const readOnlyAttempts = 2;

/**
 * The PBFT client (OSDI'99 §4.1, §5.1): signs each request, sends it to the primary of the view
 * it believes in, and accepts a result only when enough distinct replicas vouch for it (f+1
 * matching committed replies; 2f+1 for read-only replies, and for everything when the cluster
 * answers read-only queries, see PbftSettings.readOnlyQueries). On a timeout it sends the request
 * to every replica, which makes backups forward it and start their view-change timers. It learns
 * the view from what f+1 replicas report, so a lying replica cannot steer it.
 *
 * The client's id is its signing principal, so it never changes: after its session expires it
 * opens a new one under the same id and keeps its timestamps increasing.
 */
export class PbftClient implements ClientCore<PbftWire> {
  readonly clientId: ClientId;
  private readonly crypto: Crypto;
  /**
   * The quorums of the membership the client knows (PbftSettings.members, then what replies
   * taught it): only those members' replies are counted, never a removed replica's.
   */
  private q: Quorums;
  /** Membership changes the client knows of (replies carry the replica's, see learn). */
  private epoch = 0;
  /**
   * The newer membership each known member last reported (epoch and members as a key): one per
   * member, so a lying member cannot crowd out the others' reports however much it sends.
   */
  private readonly vouched = new Map<ReplicaId, string>();
  private readonly settings: PbftSettings;
  /** Replicas in the configuration's address book, members or not. */
  private readonly addressBook: number;
  private readonly retryTicks: number;
  private view = 0;
  private ticks = 0;
  private session: "none" | "opening" | "open" = "none";
  private nextTimestamp = 1;
  /** By timestamp; timestamp 0 is the session's opening. */
  private readonly pending = new Map<number, Pending>();
  private readonly waiting: { opId: number; op: PbftOp }[] = [];
  private inFlight = 0;
  /** Authenticated replies whose result lost the vote (a lying or lagging replica's), by replica. */
  private readonly outvoted = new Map<ReplicaId, number>();
  /**
   * The winning result digest of recently decided requests, with the replicas already counted as
   * dissenting: a lie that arrives after the vote is still counted, once per replica. Bounded.
   */
  private readonly decided = new Map<number, { key: string; dissent: Set<ReplicaId> }>();

  constructor(
    options: ClientOptions,
    private readonly bug?: PbftPlantedBug,
  ) {
    this.clientId = options.clientId;
    this.crypto = options.crypto;
    const replicaCount = options.config.replicas.length;
    this.addressBook = replicaCount;
    this.settings = parsePbftSettings(options.config.settings, replicaCount);
    this.q = quorumsForMembers(this.settings.members ?? membersOf(replicaCount));
    this.retryTicks = options.retryTicks ?? 20;
  }

  /** `outvoted` in all, and `outvoted-r<i>` for each replica that was out-voted. */
  stats(): Readonly<Record<string, number>> {
    const out: Record<string, number> = { outvoted: 0 };
    for (const [replica, n] of this.outvoted) {
      out.outvoted! += n;
      out[`outvoted-r${replica}`] = n;
    }
    return out;
  }

  private countOutvoted(replica: ReplicaId): void {
    this.outvoted.set(replica, (this.outvoted.get(replica) ?? 0) + 1);
  }

  step(input: ClientInput<PbftWire>): readonly Out[] {
    const out: Out[] = [];
    switch (input.type) {
      case "invoke":
        this.waiting.push({ opId: input.opId, op: { kind: input.op.kind, value: input.op.value } });
        break;
      case "admin":
        // Access changes and membership changes are ordered like commands (alone in their
        // batch); leadership transfers do not exist in PBFT (the primary is v mod n).
        if (isAccessChange(input.admin))
          this.waiting.push({ opId: input.opId, op: { kind: "admin", value: input.admin } });
        else if (input.admin.op === "add" || input.admin.op === "remove")
          this.waiting.push({
            opId: input.opId,
            op: { kind: "admin", value: { op: input.admin.op, replica: input.admin.replica } },
          });
        else
          out.push({
            type: "done",
            opId: input.opId,
            result: {
              ok: false,
              error: "invalid",
              message: `pbft: ${input.admin.op} is not supported yet (access changes are)`,
            },
          });
        break;
      case "tick":
        this.ticks++;
        this.onTick(out);
        break;
      case "response":
        this.onReply(input.from, input.msg, out);
        break;
    }
    this.pump(out);
    return out;
  }

  private pump(out: Out[]): void {
    if (this.waiting.length === 0) return;
    if (this.session === "none") {
      this.session = "opening";
      this.start(undefined, 0, { kind: "command", value: null }, false, out);
    }
    if (this.session !== "open") return;
    while (this.waiting.length > 0) {
      const next = this.waiting[0]!;
      const readOnly = next.op.kind === "query" && this.settings.readOnlyQueries;
      if (!readOnly && this.inFlight >= maxInFlight) break;
      this.waiting.shift();
      if (!readOnly) this.inFlight++;
      this.start(next.opId, this.nextTimestamp++, next.op, readOnly, out);
    }
  }

  private start(
    opId: number | undefined,
    timestamp: number,
    op: PbftOp,
    readOnly: boolean,
    out: Out[],
  ): void {
    // One authenticator entry per replica in the address book (spares too: one may become a
    // member while this request is still being retried).
    const request = signRequest(
      this.crypto,
      {
        client: this.clientId,
        timestamp,
        ackedBelow: this.ackedBelow(timestamp),
        readOnly,
        op: opValue(op),
      },
      this.addressBook,
    );
    const p: Pending = {
      opId,
      op,
      request,
      voter: this.newVoter(timestamp, readOnly),
      resendAt: this.ticks + this.retryTicks,
      attempts: 0,
    };
    this.pending.set(timestamp, p);
    if (readOnly) out.push({ type: "broadcast", msg: request });
    else out.push({ type: "send", to: primaryOf(this.view, this.q.members), msg: request });
  }

  private newVoter(timestamp: number, readOnly: boolean): ReplyVoter | undefined {
    if (this.bug === "client-accepts-first-reply") return undefined;
    // With read-only queries on, ordered results need 2f+1 too (settings.ts readOnlyQueries).
    const strong = this.settings.readOnlyQueries;
    return new ReplyVoter(this.q, { client: this.clientId, timestamp, readOnly, strong });
  }

  /**
   * A reply that carries a newer membership than ours. Once f+1 members we know (so a correct one)
   * report the same one, it is ours: its members' replies count from then on, with quorums of its
   * size, and nobody else's (a removed replica's never again). Votes collected so far were from
   * the old members: every request still waiting is asked again of everyone.
   */
  private learn(from: ReplicaId, config: ReplyConfig, out: Out[]): void {
    if (!this.q.members.includes(from)) return;
    const members = config.members;
    const wellFormed =
      members.length >= minMembers && members.every((m, i) => i === 0 || m > members[i - 1]!);
    if (!wellFormed) return;
    const key = `${config.epoch}:${members.join(",")}`;
    this.vouched.set(from, key);
    let by = 0;
    for (const k of this.vouched.values()) if (k === key) by++;
    if (by < this.q.weak) return;
    this.epoch = config.epoch;
    this.q = quorumsForMembers(members);
    this.vouched.clear();
    for (const [timestamp, p] of this.pending) {
      p.voter = this.newVoter(timestamp, p.request.readOnly);
      p.resendAt = this.ticks + this.retryTicks;
      out.push({ type: "broadcast", msg: p.request });
    }
  }

  /** The lowest timestamp whose result the client still waits for: replicas may forget those below. */
  private ackedBelow(current: number): number {
    let lowest = Math.max(current, 1);
    for (const [t, p] of this.pending) if (t > 0 && !p.request.readOnly && t < lowest) lowest = t;
    return lowest;
  }

  private onTick(out: Out[]): void {
    for (const [timestamp, p] of [...this.pending]) {
      if (this.ticks < p.resendAt) continue;
      p.attempts++;
      if (p.request.readOnly && p.attempts >= readOnlyAttempts) {
        this.orderInstead(timestamp, p, out);
        continue;
      }
      // §4.1: a request that is not answered in time goes to every replica.
      p.resendAt = this.ticks + this.retryTicks;
      out.push({ type: "broadcast", msg: p.request });
    }
  }

  /** A read-only query that could not gather 2f+1 matching replies is sent again, ordered. */
  private orderInstead(timestamp: number, p: Pending, out: Out[]): void {
    this.pending.delete(timestamp);
    this.inFlight++;
    this.start(p.opId, this.nextTimestamp++, p.op, false, out);
  }

  private onReply(from: ReplicaId, reply: Reply, out: Out[]): void {
    if (reply.client !== this.clientId || reply.replica !== from) return;
    if (!verifyReply(this.crypto, reply).ok) return;
    const epoch = reply.config?.epoch ?? 0;
    if (epoch > this.epoch) this.learn(from, reply.config!, out);
    // Only replies of the membership we know are votes (one that lags or leads is asked again).
    if (epoch !== this.epoch) return;
    const p = this.pending.get(reply.timestamp);
    if (!p) {
      const done = this.decided.get(reply.timestamp);
      if (done && toHex(reply.resultDigest) !== done.key && !done.dissent.has(from)) {
        done.dissent.add(from);
        this.countOutvoted(from);
      }
      return;
    }
    if (!p.voter) {
      if (reply.full) this.finish(reply.timestamp, p, reply.result, out);
      return;
    }
    if (!p.voter.add(reply).accepted) return;
    const learned = p.voter.learnedView();
    if (learned !== undefined && learned > this.view) this.view = learned;
    const outcome = p.voter.outcome();
    if (outcome.status === "decided") {
      this.noteDecided(reply.timestamp, p.voter, outcome.resultDigest);
      this.finish(reply.timestamp, p, outcome.result, out);
    } else if (outcome.status === "need-full-result") {
      // Enough digests agree but the designated replica's full reply is missing. It is usually
      // just the slowest of four (a quarter of all requests): wait a moment, then ask everyone
      // (§5.1.1 waits for the whole retransmission timeout). Asking at once sent a quarter of
      // all requests to every replica, each then ordered a second time.
      if (p.attempts === 0) p.resendAt = Math.min(p.resendAt, this.ticks + fullResultGraceTicks);
    } else if (outcome.status === "conflict") {
      this.orderInstead(reply.timestamp, p, out);
    }
  }

  private noteDecided(timestamp: number, voter: ReplyVoter, digest: Digest): void {
    const dissent = new Set(voter.dissenters(digest));
    for (const replica of dissent) this.countOutvoted(replica);
    this.decided.set(timestamp, { key: toHex(digest), dissent });
    if (this.decided.size > recentDecisions) {
      this.decided.delete(this.decided.keys().next().value!);
    }
  }

  private finish(timestamp: number, p: Pending, value: Value, out: Out[]): void {
    this.pending.delete(timestamp);
    if (!p.request.readOnly && timestamp > 0) this.inFlight--;
    let result: ReplyResult;
    try {
      result = replyResultSchema.parse(value);
    } catch (error) {
      result = { ok: false, error: "invalid", message: `malformed result: ${String(error)}` };
    }
    if (timestamp === 0) {
      if (result.ok) this.session = "open";
      else this.reopen();
      return;
    }
    if (p.opId === undefined) return;
    if (!result.ok && result.error === "session-expired") {
      // The session was forgotten, so whether this command ran before that is unknown.
      out.push({ type: "done", opId: p.opId, result, indeterminate: true });
      this.reopen();
      return;
    }
    const indeterminate = !result.ok && result.error === "stale";
    out.push(
      indeterminate
        ? { type: "done", opId: p.opId, result, indeterminate }
        : { type: "done", opId: p.opId, result },
    );
  }

  /** Opens a new session under the same id; timestamps keep increasing. */
  private reopen(): void {
    if (this.session === "opening" && this.pending.has(0)) return;
    this.session = "none";
    this.pending.delete(0);
  }
}

export function createPbftClient(options: ClientOptions, bug?: PbftPlantedBug): PbftClient {
  return new PbftClient(options, bug);
}
