import type { ClientRequestMessage } from "../../core/client-messages.js";
import type { ClientId, ReplicaId } from "../../core/ids.js";
import type {
  CoreInput,
  CoreOutput,
  CoreStatus,
  ProtocolCore,
  ReplicaOptions,
} from "../../core/protocol.js";
import { isPlainObject } from "../../core/schema.js";
import type { Value } from "../../core/value.js";
import {
  becomeFollower,
  handleTimeoutNow,
  handleVote,
  handleVoteReply,
  tally,
  tickElection,
} from "./election.js";
import { tickLeader } from "./leader-tick.js";
import { RaftLog } from "./log.js";
import { ConfigHistory, makeMembership, parseMembership } from "./membership.js";
import type { RaftMessage, RaftWire } from "./messages.js";
import { RaftNode } from "./node.js";
import { handleQuery } from "./read-index.js";
import { handleAdmin, tickAdminWaiters } from "./reconfig.js";
import { acceptAppend, handleAppend, handleAppendReply, maybeCommit } from "./replication.js";
import { answerApplied, handleCommand } from "./sessions.js";
import { parseRaftSettings } from "./settings.js";
import { handleSnapshotChunk, handleSnapshotReply, onSnapshotTaken } from "./snapshot.js";
import { snapshotTerm } from "./snapshot-meta.js";
import {
  invariant,
  type RaftHardState,
  type RaftPlantedBug,
  type RaftStatusRole,
} from "./types.js";

/**
 * A Raft replica as a sans-IO core: inputs in, outputs out, no clocks or I/O (see
 * src/core/protocol.ts). This file recovers the state from disk and dispatches inputs; the
 * rules live in election.ts, replication.ts, read-index.ts, snapshot.ts, reconfig.ts,
 * transfer.ts and sessions.ts.
 */
export class RaftCore implements ProtocolCore<RaftWire> {
  readonly id: ReplicaId;
  private readonly n: RaftNode;

  constructor(options: ReplicaOptions, plantedBug?: RaftPlantedBug) {
    const replicaCount = options.config.replicas.length;
    invariant(
      Number.isInteger(options.id) && options.id >= 0 && options.id < replicaCount,
      () => `replica id ${options.id} is not in the address book of ${replicaCount}`,
    );
    const settings = parseRaftSettings(options.config.settings, replicaCount);
    const allReplicas = options.config.replicas.map((r) => r.id);
    const initial = makeMembership(settings.initialVoters ?? allReplicas, []);
    const durable = options.durable;
    const snap = durable.snapshot;
    const base = snap?.meta.index ?? 0;
    const log = new RaftLog(base, snap ? snapshotTerm(snap.meta) : 0);
    const configs = new ConfigHistory(
      base,
      snap ? parseMembership(snap.meta.config, replicaCount) : initial,
      replicaCount,
    );
    const n = new RaftNode(
      options.id,
      settings,
      plantedBug,
      options.random,
      replicaCount,
      options.config.tickMs,
      log,
      configs,
    );
    this.id = options.id;
    this.n = n;

    const hard = parseHardState(durable.hardState);
    n.term = hard.term;
    n.vote = hard.vote;
    if (snap) n.snapshot = { meta: snap.meta, data: snap.data };
    n.snapshotTime = hard.snapshotTime ?? 0;
    n.lastEntryTime = n.snapshotTime;
    // Entries after the snapshot, contiguous (the driver may hand us older ones too: skip them).
    const entries = durable.entries.filter((e) => e.index > base);
    log.append(entries);
    configs.onAppend(entries);
    for (const e of entries) n.lastEntryTime = Math.max(n.lastEntryTime, e.time);
    // The service is restored from the snapshot by the driver; later entries are applied again
    // once this replica learns the commit index.
    n.commitIndex = base;
    n.appliedRequested = base;
    n.applied = base;
    n.durableIndex = log.lastIndex;
  }

  step(input: CoreInput<RaftWire>): readonly CoreOutput<RaftWire>[] {
    const n = this.n;
    n.begin();
    switch (input.type) {
      case "peer":
        this.onPeer(input.from, input.msg);
        break;
      case "client":
        this.onClient(input.client, input.msg);
        break;
      case "tick":
        this.onTick(input.now);
        break;
      case "persisted":
        n.onPersisted(input.upTo);
        if (n.role === "candidate") tally(n);
        else if (n.role === "leader") maybeCommit(n);
        break;
      case "applied":
        invariant(
          input.upTo <= n.appliedRequested,
          () => `driver applied ${input.upTo} but only ${n.appliedRequested} were handed out`,
        );
        n.applied = Math.max(n.applied, input.upTo);
        answerApplied(n, input.results);
        break;
      case "queryDone":
        n.reply(input.client, {
          type: "queryReply",
          client: input.client,
          qid: input.qid,
          result: input.result,
        });
        break;
      case "snapshotTaken":
        onSnapshotTaken(n, input.index, input.data);
        break;
    }
    return n.end();
  }

  private onPeer(from: ReplicaId, msg: RaftMessage): void {
    const n = this.n;
    if (from === this.id || !Number.isInteger(from) || from < 0 || from >= n.replicaCount) return;
    // Votes and vote replies handle terms themselves (pre-votes must not move terms).
    if (msg.type === "vote") {
      handleVote(n, from, msg);
      return;
    }
    if (msg.type === "voteReply") {
      handleVoteReply(n, from, msg);
      return;
    }

    if (msg.term > n.term) {
      const fromLeader =
        msg.type === "append" || msg.type === "snapshot" || msg.type === "timeoutNow";
      becomeFollower(n, msg.term, fromLeader ? from : undefined);
    } else if (msg.term < n.term) {
      // PLANTED BUG stale-term-append-accepted: process a deposed leader's AppendEntries.
      if (msg.type === "append" && n.bug === "stale-term-append-accepted") {
        acceptAppend(n, from, msg, msg.term);
        return;
      }
      // Tell a deposed leader about the newer term so it steps down.
      if (msg.type === "append") {
        n.send(from, {
          type: "appendReply",
          term: n.term,
          success: false,
          matchIndex: 0,
          rejectedIndex: msg.prevIndex,
          conflictIndex: 0,
          conflictTerm: 0,
          round: msg.round,
        });
      } else if (msg.type === "snapshot") {
        n.send(from, {
          type: "snapshotReply",
          term: n.term,
          index: msg.index,
          received: 0,
          done: false,
        });
      }
      return;
    }

    switch (msg.type) {
      case "append":
        handleAppend(n, from, msg);
        break;
      case "snapshot":
        handleSnapshotChunk(n, from, msg);
        break;
      case "appendReply":
        if (n.role === "leader") handleAppendReply(n, from, msg);
        break;
      case "snapshotReply":
        if (n.role === "leader") handleSnapshotReply(n, from, msg);
        break;
      case "timeoutNow":
        handleTimeoutNow(n, msg);
        break;
    }
  }

  private onClient(client: ClientId, msg: ClientRequestMessage): void {
    // The channel authenticated `client`; a message speaking for another session is dropped.
    if (msg.client !== client) return;
    switch (msg.type) {
      case "request":
        handleCommand(this.n, msg);
        break;
      case "query":
        handleQuery(this.n, msg);
        break;
      case "admin":
        handleAdmin(this.n, msg);
        break;
    }
  }

  private onTick(now: number): void {
    const n = this.n;
    n.now = now;
    n.ticksSinceStart++;
    tickAdminWaiters(n);
    if (n.role === "leader") tickLeader(n);
    else tickElection(n);
  }

  status(): CoreStatus {
    const n = this.n;
    const role: RaftStatusRole = n.role === "follower" && !n.isVoter ? "learner" : n.role;
    const progress: { [id: string]: Value } = {};
    for (const [id, pr] of n.progress) progress[String(id)] = pr.describe();
    return {
      role,
      term: n.term,
      leader: n.leader,
      commitIndex: n.commitIndex,
      lastIndex: n.log.lastIndex,
      details: {
        voters: n.membership.voters,
        learners: n.membership.learners,
        vote: n.vote,
        appliedIndex: n.applied,
        applyRequestedIndex: n.appliedRequested,
        snapshotIndex: n.snapshot?.meta.index ?? 0,
        firstIndex: n.log.offset + 1,
        durableIndex: n.durableIndex,
        persistedUpTo: n.persistedUpTo,
        pendingCommands: n.pending.size,
        pendingReads: n.readQueue.length + n.readRounds.reduce((s, r) => s + r.reads.length, 0),
        transferTo: n.transfer?.to ?? null,
        progress,
      },
    };
  }
}

function parseHardState(v: Value | undefined): RaftHardState {
  if (v === undefined || v === null) return { term: 0, vote: null };
  const isCount = (x: unknown): x is number =>
    typeof x === "number" && Number.isInteger(x) && x >= 0;
  const ok =
    isPlainObject(v) &&
    isCount(v.term) &&
    (v.vote === null || isCount(v.vote)) &&
    (v.snapshotTime === undefined || isCount(v.snapshotTime));
  invariant(ok, () => `malformed raft hard state ${JSON.stringify(v)}`);
  return v as unknown as RaftHardState;
}
