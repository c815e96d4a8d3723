import type { LogIndex, ReplicaId } from "../../core/ids.js";
import type { EntryPayload, LogEntry } from "../../core/log-entry.js";
import type { Value } from "../../core/value.js";
import type { AppendReply, AppendRequest } from "./messages.js";
import type { RaftNode } from "./node.js";
import type { Progress } from "./progress.js";
import { sendSnapshotChunk, startSnapshot } from "./snapshot.js";
import { invariant } from "./types.js";

/**
 * Log replication (dissertation 3.5): the leader's side (appending, pipelined AppendEntries,
 * heartbeat rounds, fast backtracking) and the follower's side (consistency check, conflict
 * truncation, durable acknowledgements). These send and append; what follows from an
 * acknowledgement or a new commit index (the commit rule, reads, transfers) is raft.ts's.
 */

// ------------------------------------------------------------------ appending

/** Appends entries to this replica's log and queues them for stable storage. */
export function appendToLog(n: RaftNode, entries: readonly LogEntry[]): void {
  if (entries.length === 0) return;
  n.log.append(entries);
  n.configs.onAppend(entries);
  n.persist({ type: "append", entries });
  for (const e of entries) n.lastEntryTime = Math.max(n.lastEntryTime, e.time);
  // PLANTED BUG apply-before-commit: hand entries to the service as soon as they are appended.
  if (n.bug === "apply-before-commit") n.applyCommitted();
}

/**
 * The leader appends a new entry, fixing its nondeterminism: a time that never decreases along
 * the log and a fresh seed. It is written to the leader's disk in parallel with replication
 * (dissertation 10.2.1); the leader counts itself toward commit only once it is durable.
 */
export function appendAsLeader(n: RaftNode, payload: EntryPayload): LogEntry {
  invariant(n.role === "leader", () => `appending as leader while ${n.role}`);
  const now = Math.max(0, Math.floor(n.now));
  const entry: LogEntry = {
    index: n.log.lastIndex + 1,
    term: n.term,
    time: Math.max(n.lastEntryTime, now),
    seed: n.random.u32(),
    payload,
  };
  appendToLog(n, [entry]);
  return entry;
}

// ------------------------------------------------------------------ leader: sending

const entrySizes = new WeakMap<LogEntry, number>();

/** Rough encoded size of a value, for the per-message byte bound. */
function approxSize(v: Value): number {
  if (v === null || typeof v === "boolean") return 1;
  if (typeof v === "number") return 9;
  if (typeof v === "string") return v.length + 5;
  if (v instanceof Uint8Array) return v.length + 5;
  let size = 5;
  if (Array.isArray(v)) {
    for (const item of v as readonly Value[]) size += approxSize(item);
  } else {
    for (const [key, item] of Object.entries(v as { readonly [key: string]: Value })) {
      size += key.length + 1 + approxSize(item);
    }
  }
  return size;
}

export function entrySize(e: LogEntry): number {
  let size = entrySizes.get(e);
  if (size === undefined) {
    size = 40 + approxSize(e.payload as unknown as Value);
    entrySizes.set(e, size);
  }
  return size;
}

/** Entries from `from` on, bounded by count and bytes (at least one if any). */
function entriesFrom(n: RaftNode, from: LogIndex): LogEntry[] {
  const last = Math.min(n.log.lastIndex, from + n.settings.maxEntriesPerMessage - 1);
  const out: LogEntry[] = [];
  let bytes = 0;
  for (let i = from; i <= last; i++) {
    const e = n.log.entry(i)!;
    bytes += entrySize(e);
    if (out.length > 0 && bytes > n.settings.maxBytesPerMessage) break;
    out.push(e);
  }
  return out;
}

/** Sends what the follower's progress state allows: one probe, a pipeline window, or a snapshot chunk. */
export function replicateTo(n: RaftNode, peer: ReplicaId): void {
  const pr = n.progress.get(peer);
  if (!pr) return;
  for (;;) {
    if (pr.state === "snapshot") {
      if (!pr.probeSent) sendSnapshotChunk(n, peer, pr);
      return;
    }
    if (pr.state === "probe" && pr.probeSent) return;
    if (pr.state === "replicate" && pr.inflight.length >= n.settings.maxInflight) return;
    invariant(
      pr.next <= n.log.lastIndex + 1,
      () => `next index ${pr.next} of ${peer} beyond leader's last ${n.log.lastIndex}`,
    );
    const prevIndex = pr.next - 1;
    const prevTerm = n.log.term(prevIndex);
    if (prevTerm === undefined) {
      // The entries this follower needs were compacted away.
      startSnapshot(n, peer, pr);
      continue;
    }
    const entries = entriesFrom(n, pr.next);
    if (pr.state === "replicate" && entries.length === 0) return;
    const msg: AppendRequest = {
      type: "append",
      term: n.term,
      prevIndex,
      prevTerm,
      entries,
      commit: n.commitIndex,
      round: n.round,
    };
    n.send(peer, msg);
    if (pr.state === "probe") {
      pr.probeSent = true;
      pr.stalled = 0;
      return;
    }
    const last = entries.at(-1)!.index;
    pr.next = last + 1;
    pr.inflight.push(last);
  }
}

export function broadcastAppend(n: RaftNode): void {
  for (const peer of n.progress.keys()) replicateTo(n, peer);
}

/**
 * An empty AppendEntries at the follower's known match point: it asserts leadership, carries
 * the commit index and the current round, and never fails the consistency check.
 */
export function sendHeartbeat(n: RaftNode, peer: ReplicaId, pr: Progress): void {
  const matchTerm = n.log.term(pr.match);
  const prevIndex = matchTerm === undefined ? 0 : pr.match;
  n.send(peer, {
    type: "append",
    term: n.term,
    prevIndex,
    prevTerm: matchTerm ?? 0,
    entries: [],
    commit: n.commitIndex,
    round: n.round,
  });
}

/**
 * Starts a heartbeat round, the one way a round starts (the periodic heartbeat and a ReadIndex
 * confirmation alike): a new round number, its send time on the monotonic clock (a lease counts
 * from when the confirming heartbeat was sent), and a heartbeat to every replica tracked.
 */
export function startHeartbeatRound(n: RaftNode): number {
  n.round++;
  n.readOnly.recordRound(n.round, n.mono);
  for (const [peer, pr] of n.progress) sendHeartbeat(n, peer, pr);
  return n.round;
}

// ------------------------------------------------------------------ leader: acknowledgements

/** Where to probe next after a rejection, using the follower's conflict hint (dissertation 5.3). */
export function nextFromHint(n: RaftNode, pr: Progress, msg: AppendReply): LogIndex {
  let next = msg.conflictIndex;
  if (msg.conflictTerm > 0) {
    const last = n.log.lastIndexOfTerm(msg.conflictTerm, msg.rejectedIndex);
    if (last !== undefined) next = last + 1;
  }
  return Math.max(pr.match + 1, Math.min(next, msg.rejectedIndex));
}

// ------------------------------------------------------------------ follower

/**
 * The consistency check and the append itself; a rejection is answered here in `replyTerm`.
 * Returns the index up to which the log now matches the leader's (undefined when rejected or
 * malformed): the caller advances the commit index and then acknowledges (ackAppend).
 */
export function appendFromLeader(
  n: RaftNode,
  from: ReplicaId,
  msg: AppendRequest,
  replyTerm: number,
): LogIndex | undefined {
  if (!wellFormed(msg)) return undefined;
  let prevIndex = msg.prevIndex;
  let entries = msg.entries;
  const reject = (conflictIndex: LogIndex, conflictTerm: number): void => {
    const reply: AppendReply = {
      type: "appendReply",
      term: replyTerm,
      success: false,
      matchIndex: 0,
      rejectedIndex: msg.prevIndex,
      conflictIndex,
      conflictTerm,
      round: msg.round,
    };
    n.send(from, reply, n.durableAfter());
  };

  if (prevIndex < n.commitIndex) {
    // Committed entries are in every leader's log: they match; skip them.
    entries = entries.slice(n.commitIndex - prevIndex);
    prevIndex = n.commitIndex;
  } else {
    const term = n.log.term(prevIndex);
    if (term === undefined) {
      if (prevIndex > n.log.lastIndex) reject(n.log.lastIndex + 1, 0);
      else reject(n.commitIndex + 1, 0);
      return undefined;
    }
    if (term !== msg.prevTerm) {
      const first = Math.max(n.log.firstIndexOfTermRun(prevIndex, term), n.commitIndex + 1);
      reject(first, term);
      return undefined;
    }
  }

  // Skip what we already have; truncate at the first conflict (never a committed entry).
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    const have = n.log.term(e.index);
    if (have === e.term) continue;
    if (have !== undefined) {
      invariant(
        e.index > n.commitIndex,
        () => `replica ${n.id} would truncate committed entry ${e.index} (commit ${n.commitIndex})`,
      );
      n.log.truncateFrom(e.index);
      n.configs.onTruncate(e.index);
      n.onLogTruncated(e.index);
      n.persist({ type: "truncate", from: e.index });
    }
    appendToLog(n, entries.slice(i));
    break;
  }

  return prevIndex + entries.length;
}

/** Acknowledges AppendEntries that matched up to `lastNew`. */
export function ackAppend(
  n: RaftNode,
  from: ReplicaId,
  msg: AppendRequest,
  replyTerm: number,
  lastNew: LogIndex,
): void {
  // The acknowledgement leaves only once the entries (and any new term) are durable.
  let after = n.durableAfter();
  // PLANTED BUG ack-before-persist: acknowledge entries that may still be lost in a crash.
  if (n.bug === "ack-before-persist") after = 0;
  const reply: AppendReply = {
    type: "appendReply",
    term: replyTerm,
    success: true,
    matchIndex: lastNew,
    rejectedIndex: 0,
    conflictIndex: 0,
    conflictTerm: 0,
    round: msg.round,
  };
  n.send(from, reply, after);
}

/** Entries must continue from prevIndex with consecutive indexes and non-decreasing terms. */
function wellFormed(msg: AppendRequest): boolean {
  let term = msg.prevTerm;
  for (let i = 0; i < msg.entries.length; i++) {
    const e = msg.entries[i]!;
    if (e.index !== msg.prevIndex + 1 + i || e.term < term || e.term > msg.term) return false;
    term = e.term;
  }
  return true;
}
