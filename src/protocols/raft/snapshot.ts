import { concatBytes } from "../../core/bytes.js";
import type { LogIndex, ReplicaId } from "../../core/ids.js";
import { limits } from "../../core/limits.js";
import type { SnapshotMeta } from "../../core/protocol.js";
import { parseMembership } from "./membership.js";
import type { SnapshotChunk, SnapshotReply } from "./messages.js";
import type { RaftNode } from "./node.js";
import type { Progress } from "./progress.js";
import { raftSnapshotMeta, snapshotTerm } from "./snapshot-meta.js";
import { invariant } from "./types.js";

/**
 * Log compaction by snapshots (dissertation chapter 5): every `snapshotEvery` applied entries
 * the service is asked for a snapshot, which is persisted with the membership in force at its
 * index; the in-memory log then drops entries below it, keeping `compactionSlack` entries.
 * Followers whose next entry is compacted away get the snapshot in chunks (InstallSnapshot).
 */

export function maybeTakeSnapshot(n: RaftNode): void {
  const every = n.settings.snapshotEvery;
  if (every === 0 || n.snapshotRequested !== undefined) return;
  const base = n.snapshot?.meta.index ?? 0;
  if (n.appliedRequested - base < every) return;
  n.snapshotRequested = n.appliedRequested;
  n.emit({ type: "takeSnapshot", index: n.appliedRequested });
}

export function onSnapshotTaken(n: RaftNode, index: LogIndex, data: Uint8Array): void {
  if (n.snapshotRequested === index) n.snapshotRequested = undefined;
  if (index <= (n.snapshot?.meta.index ?? 0)) return; // superseded (e.g. by an installed snapshot)
  invariant(
    index <= n.appliedRequested,
    () => `snapshot taken at ${index} beyond what was applied (${n.appliedRequested})`,
  );
  const term = n.log.term(index);
  if (term === undefined) return;
  const meta: SnapshotMeta = raftSnapshotMeta(index, term, n.configs.at(index));
  n.snapshot = { meta, data };
  n.snapshotTime = n.log.entry(index)?.time ?? n.snapshotTime;
  n.persist({ type: "snapshot", meta, data });
  n.persistHardState();
  const compactTo = index - n.settings.compactionSlack;
  if (compactTo > n.log.offset) {
    n.log.compactTo(compactTo);
    n.configs.compact(compactTo);
  }
  maybeTakeSnapshot(n);
}

// ------------------------------------------------------------------ leader

export function startSnapshot(n: RaftNode, peer: ReplicaId, pr: Progress): void {
  invariant(
    n.snapshot !== undefined,
    () => `replica ${peer} needs compacted entries but there is no snapshot`,
  );
  pr.becomeSnapshot(n.snapshot.meta.index);
}

/** Sends the chunk at the follower's offset; one chunk is outstanding at a time. */
export function sendSnapshotChunk(n: RaftNode, peer: ReplicaId, pr: Progress): void {
  const snap = n.snapshot!;
  if (pr.snapshotIndex !== snap.meta.index) {
    // A newer snapshot replaced the one being sent: start over with it.
    pr.snapshotIndex = snap.meta.index;
    pr.snapshotOffset = 0;
  }
  const total = snap.data.length;
  const offset = Math.min(pr.snapshotOffset, total);
  const end = Math.min(total, offset + n.settings.snapshotChunkBytes);
  const msg: SnapshotChunk = {
    type: "snapshot",
    term: n.term,
    index: snap.meta.index,
    snapTerm: snapshotTerm(snap.meta),
    config: parseMembership(snap.meta.config, n.replicaCount),
    time: n.snapshotTime,
    total,
    offset,
    data: snap.data.slice(offset, end),
    done: end === total,
  };
  n.send(peer, msg);
  pr.probeSent = true;
  pr.stalled = 0;
}

// ------------------------------------------------------------------ follower

/** A snapshot whose chunks have all arrived, ready to install. */
export interface AssembledSnapshot {
  readonly meta: SnapshotMeta;
  readonly data: Uint8Array;
  readonly time: number;
}

export function sendSnapshotReply(
  n: RaftNode,
  to: ReplicaId,
  index: LogIndex,
  received: number,
  done: boolean,
  after = 0,
): void {
  const r: SnapshotReply = { type: "snapshotReply", term: n.term, index, received, done };
  n.send(to, r, after);
}

/**
 * Takes one InstallSnapshot chunk from the current leader. The pieces are kept as they arrive
 * (never an allocation of the declared total, which a peer could set to 2^40): a total above
 * limits.raftMaxSnapshotBytes is refused and counted, and once the pieces reach
 * limits.raftMaxSnapshotPieces they are joined into one piece of the bytes received. Replies to
 * every chunk except the last; returns the snapshot when it is complete.
 */
export function receiveSnapshotChunk(
  n: RaftNode,
  from: ReplicaId,
  msg: SnapshotChunk,
): AssembledSnapshot | undefined {
  const reply = (received: number, done: boolean, after = 0): void =>
    sendSnapshotReply(n, from, msg.index, received, done, after);

  if (msg.index <= n.commitIndex) {
    // Our state already covers it (a duplicate, or we caught up another way).
    reply(msg.total, true, n.durableAfter());
    return undefined;
  }
  if (msg.total > limits.raftMaxSnapshotBytes) {
    n.refusedSnapshotChunks++;
    n.incoming = undefined;
    reply(0, false);
    return undefined;
  }
  if (msg.offset === 0) {
    n.incoming = {
      index: msg.index,
      term: msg.snapTerm,
      total: msg.total,
      chunks: [],
      received: 0,
    };
  }
  const inc = n.incoming;
  const same =
    inc !== undefined &&
    inc.index === msg.index &&
    inc.term === msg.snapTerm &&
    inc.total === msg.total;
  if (!same) {
    reply(0, false);
    return undefined;
  }
  if (msg.offset === inc.received && msg.offset + msg.data.length <= inc.total) {
    if (inc.chunks.length >= limits.raftMaxSnapshotPieces) inc.chunks = [concatBytes(inc.chunks)];
    inc.chunks.push(msg.data.slice());
    inc.received += msg.data.length;
  }
  if (inc.received < inc.total || !msg.done) {
    reply(inc.received, false);
    return undefined;
  }
  n.incoming = undefined;
  return {
    meta: raftSnapshotMeta(msg.index, msg.snapTerm, msg.config),
    data: concatBytes(inc.chunks),
    time: msg.time,
  };
}

/**
 * Replaces the log's prefix by a snapshot. Entries after it are kept if the log agrees with the
 * snapshot's last entry, otherwise the whole log goes. The snapshot is persisted, and the driver
 * restores the service from it (installSnapshot output) before any later apply.
 */
export function installSnapshot(
  n: RaftNode,
  meta: SnapshotMeta,
  data: Uint8Array,
  time: number,
): void {
  invariant(
    meta.index > n.commitIndex,
    () => `installing snapshot ${meta.index} at or below commit ${n.commitIndex}`,
  );
  const config = parseMembership(meta.config, n.replicaCount);
  const term = snapshotTerm(meta);
  const keep = n.log.term(meta.index) === term;
  if (keep) {
    n.log.compactTo(meta.index);
  } else {
    n.onLogTruncated(n.commitIndex + 1);
    n.log.reset(meta.index, term);
    n.persist({ type: "truncate", from: meta.index + 1 });
  }
  n.configs.reset(meta.index, config, keep);
  n.snapshot = { meta, data };
  n.snapshotTime = time;
  n.lastEntryTime = Math.max(n.lastEntryTime, time);
  n.persist({ type: "snapshot", meta, data });
  n.persistHardState();
  n.flush();
  n.setCommit(meta.index);
  n.appliedRequested = meta.index;
  n.applied = Math.max(n.applied, meta.index);
  n.emit({ type: "installSnapshot", meta, data });
}
