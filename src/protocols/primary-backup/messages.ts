import type { LogIndex, ReplicaId } from "../../core/ids.js";
import { type LogEntry, logEntrySchema } from "../../core/log-entry.js";
import type { WireTypes } from "../../core/protocol.js";
import { array, bool, bytes, int, object, type Schema, tagged } from "../../core/schema.js";
import type { PbClientReply, PbClientRequest } from "./client-messages.js";

/** An epoch: primary/backup's number for "who is primary", decided by the arbiter. */
export type Epoch = number;

/**
 * The primary's log shipping, and its heartbeat when `entries` is empty. The receiver keeps the
 * entries only if its log holds the entry at `prevIndex` from epoch `prevEpoch` (so logs agree
 * on every earlier entry, as in Raft's log matching).
 */
export type AppendMessage = {
  readonly type: "append";
  readonly epoch: Epoch;
  readonly prevIndex: LogIndex;
  readonly prevEpoch: Epoch;
  readonly entries: readonly LogEntry[];
  /** The primary's commit index: the receiver may apply up to here (what it holds of it). */
  readonly commit: LogIndex;
  /** The primary counts the receiver as its in-sync backup: it may take over in this epoch. */
  readonly paired: boolean;
  /** Echoed in the ack, to confirm the primary is still the primary (reads). */
  readonly round: number;
};

/** State transfer to a new backup: the service state at `index`, then the log continues after it. */
export type SnapshotMessage = {
  readonly type: "snapshot";
  readonly epoch: Epoch;
  readonly index: LogIndex;
  /** Epoch of the entry at `index`. */
  readonly snapEpoch: Epoch;
  /** Log time of the entry at `index`. */
  readonly time: number;
  readonly data: Uint8Array;
  readonly round: number;
};

/**
 * The backup's answer to an append or snapshot. With `ok`, it holds the primary's log up to
 * `index` (durably, in the durable ack mode). Without, its log did not match (`last`, `commit`
 * say where to resume), or `epoch` is newer than the sender's (the sender is deposed).
 */
export type AckMessage = {
  readonly type: "ack";
  readonly epoch: Epoch;
  readonly ok: boolean;
  readonly index: LogIndex;
  readonly last: LogIndex;
  readonly commit: LogIndex;
  readonly round: number;
};

export type PrimaryBackupMessage = AppendMessage | SnapshotMessage | AckMessage;

/** The arbiter's atomic test-and-set: the first replica to ask for an epoch wins it for good. */
export interface ArbiterRequest {
  readonly epoch: Epoch;
  readonly replica: ReplicaId;
}
/** Who won the epoch (the asker itself, or an earlier asker). */
export interface ArbiterAnswer {
  readonly epoch: Epoch;
  readonly winner: ReplicaId;
}

export interface PrimaryBackupWire extends WireTypes {
  readonly peer: PrimaryBackupMessage;
  readonly request: PbClientRequest;
  readonly response: PbClientReply;
  readonly external: { readonly request: ArbiterRequest; readonly answer: ArbiterAnswer };
}

export const primaryBackupMessageLimits = {
  /** Entries in one append the schema admits (the maxEntriesPerMessage setting is below it). */
  entries: 4096,
  /** Bytes of one snapshot message. */
  snapshotBytes: 1 << 30,
};

const index = int(0);
const epoch = int(0);

export const primaryBackupPeerSchema: Schema<PrimaryBackupMessage> = tagged({
  append: {
    epoch,
    prevIndex: index,
    prevEpoch: epoch,
    entries: array(logEntrySchema, primaryBackupMessageLimits.entries),
    commit: index,
    paired: bool(),
    round: int(0),
  },
  snapshot: {
    epoch,
    index,
    snapEpoch: epoch,
    time: int(0),
    data: bytes(primaryBackupMessageLimits.snapshotBytes),
    round: int(0),
  },
  ack: { epoch, ok: bool(), index, last: index, commit: index, round: int(0) },
}) as Schema<PrimaryBackupMessage>;

export const arbiterRequestSchema: Schema<ArbiterRequest> = object({
  epoch: int(1),
  replica: int(0, 1023),
});
export const arbiterAnswerSchema: Schema<ArbiterAnswer> = object({
  epoch: int(1),
  winner: int(0, 1023),
});
