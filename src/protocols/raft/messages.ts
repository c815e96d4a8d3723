import type { ClientReplyMessage, ClientRequestMessage } from "../../core/client-messages.js";
import type { LogIndex, Term } from "../../core/ids.js";
import { type LogEntry, logEntrySchema } from "../../core/log-entry.js";
import type { WireTypes } from "../../core/protocol.js";
import { array, bool, bytes, int, object, type Schema, tagged } from "../../core/schema.js";
import type { Membership } from "./types.js";

/** RequestVote (dissertation 3.4) or, with `pre`, a pre-vote (9.6) for term `term`. */
export type VoteRequest = {
  readonly type: "vote";
  /** The candidate's term; for a pre-vote, the term it would campaign in (its term + 1). */
  readonly term: Term;
  readonly lastIndex: LogIndex;
  readonly lastTerm: Term;
  readonly pre: boolean;
  /** Sent because of a leadership transfer: voters skip the leader-stickiness check. */
  readonly transfer: boolean;
};

export type VoteReply = {
  readonly type: "voteReply";
  readonly term: Term;
  readonly granted: boolean;
  readonly pre: boolean;
};

/** AppendEntries; with no entries it is a heartbeat. */
export type AppendRequest = {
  readonly type: "append";
  readonly term: Term;
  readonly prevIndex: LogIndex;
  readonly prevTerm: Term;
  readonly entries: readonly LogEntry[];
  /** The leader's commit index. */
  readonly commit: LogIndex;
  /** The leader's heartbeat round when it sent this; echoed to confirm leadership for reads. */
  readonly round: number;
};

export type AppendReply = {
  readonly type: "appendReply";
  readonly term: Term;
  readonly success: boolean;
  /** On success: the follower's log matches the leader's up to here, durably. */
  readonly matchIndex: LogIndex;
  /** On failure: the prevIndex that did not match. */
  readonly rejectedIndex: LogIndex;
  /** On failure: first index of the follower's conflicting term, or its last index + 1. */
  readonly conflictIndex: LogIndex;
  /** On failure: the follower's term at rejectedIndex, or 0 when its log is shorter. */
  readonly conflictTerm: Term;
  readonly round: number;
};

/** One chunk of InstallSnapshot (dissertation 5.3 / Figure 5.3). */
export type SnapshotChunk = {
  readonly type: "snapshot";
  readonly term: Term;
  /** Last index and term covered by the snapshot. */
  readonly index: LogIndex;
  readonly snapTerm: Term;
  readonly config: Membership;
  /** Time of the entry at `index` (entry times never decrease along the log). */
  readonly time: number;
  /** Total size of the snapshot data in bytes. */
  readonly total: number;
  readonly offset: number;
  readonly data: Uint8Array;
  readonly done: boolean;
};

export type SnapshotReply = {
  readonly type: "snapshotReply";
  readonly term: Term;
  readonly index: LogIndex;
  /** Bytes of this snapshot the follower holds (the next offset it expects). */
  readonly received: number;
  /** The follower's state now covers `index` (installed, or already committed past it). */
  readonly done: boolean;
};

/** Leadership transfer: start an election now (dissertation 3.10). */
export type TimeoutNow = {
  readonly type: "timeoutNow";
  readonly term: Term;
};

export type RaftMessage =
  | VoteRequest
  | VoteReply
  | AppendRequest
  | AppendReply
  | SnapshotChunk
  | SnapshotReply
  | TimeoutNow;

export interface RaftWire extends WireTypes {
  readonly peer: RaftMessage;
  readonly request: ClientRequestMessage;
  readonly response: ClientReplyMessage;
}

const index = int(0);
const term = int(0);
const replicaId = int(0, 1023);
const membershipSchema = object({
  voters: array(replicaId, 1024),
  learners: array(replicaId, 1024),
});

/** Bounds on untrusted Raft messages. */
export const raftMessageLimits = {
  maxEntries: 1 << 16,
  maxChunkBytes: 1 << 24,
  maxSnapshotBytes: 2 ** 40,
} as const;

/** Schema for every Raft peer message. */
export const raftPeerMessageSchema: Schema<RaftMessage> = tagged({
  vote: { term, lastIndex: index, lastTerm: term, pre: bool(), transfer: bool() },
  voteReply: { term, granted: bool(), pre: bool() },
  append: {
    term,
    prevIndex: index,
    prevTerm: term,
    entries: array(logEntrySchema, raftMessageLimits.maxEntries),
    commit: index,
    round: int(0),
  },
  appendReply: {
    term,
    success: bool(),
    matchIndex: index,
    rejectedIndex: index,
    conflictIndex: index,
    conflictTerm: term,
    round: int(0),
  },
  snapshot: {
    term,
    index,
    snapTerm: term,
    config: membershipSchema,
    time: int(0),
    total: int(0, raftMessageLimits.maxSnapshotBytes),
    offset: int(0, raftMessageLimits.maxSnapshotBytes),
    data: bytes(raftMessageLimits.maxChunkBytes),
    done: bool(),
  },
  snapshotReply: {
    term,
    index,
    received: int(0, raftMessageLimits.maxSnapshotBytes),
    done: bool(),
  },
  timeoutNow: { term },
}) as Schema<RaftMessage>;
