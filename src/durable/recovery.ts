import { DurableStateBuilder } from "../core/durable-state-builder.js";
import { snapshotMetaFields } from "../core/persist-ops-codec.js";
import {
  type DurableRules,
  type DurableState,
  emptyDurableState,
  type SnapshotMeta,
} from "../core/protocol.js";
import { encode } from "../platform/codec.js";
import { StorageCorruptionError } from "./errors.js";
import {
  isTempFileName,
  parseSegmentFileName,
  parseSnapshotFileName,
  segmentFileName,
  snapshotFileName,
} from "./file-names.js";
import type { RecoveryReport } from "./recovery-report.js";
import { corruptionAfterStop, scanSegment, stopDescriptions } from "./segment-scan.js";
import { decodeSnapshotFile } from "./snapshot-file.js";
import {
  decodeWalRecord,
  maxAppendedIndex,
  WalFormatError,
  type WalOp,
  type WalRecord,
} from "./wal-record.js";

/**
 * Recovery: from the files of a storage directory to the DurableState a replica restarts with.
 * It only reads; what must change on disk (a torn tail to cut, files to delete) comes back as
 * part of the result for the caller to carry out. The source is a directory for FileStorage, a
 * map of byte arrays for the crash tests, and the simulator's disk, so all go through exactly
 * this code. It lives below both src/storage and src/sim (the simulator may not import
 * storage), and is written once as a generator that asks for files, driven by an async reader
 * (`recover`) or a synchronous one (`recoverSync`, for the simulator's virtual time).
 *
 * What is one protocol's (Raft: a gap-free log; a lost snapshot is covered only if the log holds
 * its last entry with its term) comes from the protocol's DurableRules.
 */
export interface RecoverySource {
  list(): Promise<readonly string[]>;
  read(file: string): Promise<Uint8Array>;
}

export interface SyncRecoverySource {
  list(): readonly string[];
  read(file: string): Uint8Array;
}

type Ask = { readonly list: true } | { readonly read: string };

function* listFiles(): Generator<Ask, readonly string[], unknown> {
  return (yield { list: true }) as readonly string[];
}

function* readFile(file: string): Generator<Ask, Uint8Array, unknown> {
  return (yield { read: file }) as Uint8Array;
}

export async function recover(
  source: RecoverySource,
  rules: DurableRules,
): Promise<RecoveryResult> {
  const steps = recoverySteps(rules) as Generator<Ask, RecoveryResult, unknown>;
  let next = steps.next();
  while (!next.done) {
    const ask = next.value;
    next = steps.next("list" in ask ? await source.list() : await source.read(ask.read));
  }
  return next.value;
}

export function recoverSync(source: SyncRecoverySource, rules: DurableRules): RecoveryResult {
  const steps = recoverySteps(rules) as Generator<Ask, RecoveryResult, unknown>;
  let next = steps.next();
  while (!next.done) {
    const ask = next.value;
    next = steps.next("list" in ask ? source.list() : source.read(ask.read));
  }
  return next.value;
}

/** What the writer needs to know about each segment to continue and compact the log. */
export interface SegmentInfo {
  readonly seq: number;
  readonly file: string;
  readonly records: number;
  readonly firstSequence: number | undefined;
  readonly lastSequence: number | undefined;
  /** Highest entry index any record in the segment appends (0 if none). */
  readonly maxEntryIndex: number;
  /** Length of the segment after a torn tail is cut off. */
  readonly validLength: number;
}

/** A snapshot file a durable WAL record commits. */
export interface CommittedSnapshot {
  readonly index: number;
  /** Sequence number of the WAL record that commits it. */
  readonly sequence: number;
  readonly file: string;
}

export interface RecoveryResult {
  readonly state: DurableState;
  readonly report: RecoveryReport;
  readonly segments: readonly SegmentInfo[];
  /** Usable committed snapshot files, oldest first: the one the state starts from and older ones. */
  readonly snapshots: readonly CommittedSnapshot[];
  readonly nextSequence: number;
}

interface ReadRecord {
  readonly file: string;
  readonly offset: number;
  readonly record: WalRecord;
}

const corruptLog = "the log is corrupt before its end";

function* recoverySteps(rules: DurableRules): Generator<Ask, RecoveryResult, unknown> {
  const names = yield* listFiles();
  const segmentSeqs = names
    .map(parseSegmentFileName)
    .filter((seq): seq is number => seq !== undefined)
    .sort((a, b) => a - b);
  const snapshotFiles = new Map<number, string>();
  for (const name of names) {
    const index = parseSnapshotFileName(name);
    if (index !== undefined) snapshotFiles.set(index, name);
  }
  const discarded = names.filter(isTempFileName);

  if (segmentSeqs.length === 0) {
    const first = [...snapshotFiles.values()].sort()[0];
    if (first !== undefined) {
      throw new StorageCorruptionError(
        first,
        undefined,
        "snapshot files exist but no WAL segment does",
        "the log that commits them is missing",
      );
    }
    return {
      state: emptyDurableState,
      report: {
        fresh: true,
        filesRead: [],
        segments: 0,
        records: 0,
        lastSequence: 0,
        truncatedTail: undefined,
        snapshotUsed: undefined,
        fallbacks: [],
        discarded,
        staleLockPid: undefined,
      },
      segments: [],
      snapshots: [],
      nextSequence: 1,
    };
  }

  const log = yield* readLog(segmentSeqs);

  // Snapshot files are committed by WAL records; a file nothing commits is discarded.
  const committed = new Map<number, { meta: SnapshotMeta; sequence: number }>();
  for (const { record } of log.records) {
    for (const op of record.ops) {
      if (op.type === "snapshot")
        committed.set(op.meta.index, { meta: op.meta, sequence: record.sequence });
    }
  }
  for (const [index, file] of snapshotFiles) if (!committed.has(index)) discarded.push(file);

  const base = yield* loadNewestSnapshot(committed, snapshotFiles, log.filesRead);
  const firstSegment = log.segments[0]!;
  if (firstSegment.seq > 1 && !base.loaded) {
    throw new StorageCorruptionError(
      firstSegment.file,
      undefined,
      `the log starts at segment ${firstSegment.seq} (earlier segments were compacted) but no usable snapshot covers them`,
      "the state the compacted segments held is lost",
    );
  }
  if (firstSegment.seq > 1 && log.records.length === 0) {
    throw new StorageCorruptionError(
      firstSegment.file,
      0,
      "the only segment left after compaction holds no records",
      "the hard state it must begin with is lost",
    );
  }

  const state = replay(log.records, base.loaded, base.fallbacks, rules);

  const baseIndex = base.loaded?.meta.index;
  const unusable = new Set(base.fallbacks.map((f) => f.file));
  const snapshots: CommittedSnapshot[] = [];
  if (baseIndex !== undefined) {
    for (const [index, { sequence }] of committed) {
      const file = snapshotFiles.get(index);
      if (index <= baseIndex && file !== undefined && !unusable.has(file)) {
        snapshots.push({ index, sequence, file });
      }
    }
    snapshots.sort((a, b) => a.index - b.index);
  }

  const lastRecord = log.records.at(-1)?.record;
  return {
    state,
    report: {
      fresh: false,
      filesRead: log.filesRead,
      segments: log.segments.length,
      records: log.records.length,
      lastSequence: lastRecord?.sequence ?? 0,
      truncatedTail: log.truncatedTail,
      snapshotUsed: base.loaded && {
        file: snapshotFileName(base.loaded.meta.index),
        index: base.loaded.meta.index,
      },
      fallbacks: base.fallbacks,
      discarded,
      staleLockPid: undefined,
    },
    segments: log.segments,
    snapshots,
    nextSequence: log.nextSequence,
  };
}

/** Reads every segment in order: framing, checksums, torn tail, decoding, sequence numbers. */
function* readLog(seqs: readonly number[]) {
  const records: ReadRecord[] = [];
  const segments: SegmentInfo[] = [];
  const filesRead: string[] = [];
  let truncatedTail: RecoveryReport["truncatedTail"];
  let expected: number | undefined;

  for (let i = 0; i < seqs.length; i++) {
    const seq = seqs[i]!;
    const file = segmentFileName(seq);
    if (i > 0 && seq !== seqs[i - 1]! + 1) {
      throw new StorageCorruptionError(
        segmentFileName(seqs[i - 1]! + 1),
        undefined,
        `missing (the WAL jumps from ${segmentFileName(seqs[i - 1]!)} to ${file})`,
        "a segment in the middle of the log is gone",
      );
    }
    const isLast = i === seqs.length - 1;
    const bytes = yield* readFile(file);
    filesRead.push(file);
    const scan = scanSegment(bytes);
    if (scan.stop) {
      const what = stopDescriptions[scan.stop.reason];
      if (!isLast) throw new StorageCorruptionError(file, scan.stop.offset, what, corruptLog);
      const evidence = corruptionAfterStop(bytes, scan.stop);
      if (evidence !== undefined) {
        throw new StorageCorruptionError(
          file,
          scan.stop.offset,
          `${what} (${evidence})`,
          corruptLog,
        );
      }
      truncatedTail = {
        file,
        offset: scan.stop.offset,
        bytesDropped: bytes.length - scan.stop.offset,
        reason: what,
      };
    }

    let maxEntryIndex = 0;
    let first: number | undefined;
    for (const { offset, payload } of scan.records) {
      let record: WalRecord;
      try {
        record = decodeWalRecord(payload);
      } catch (error) {
        if (error instanceof WalFormatError) {
          throw new StorageCorruptionError(file, offset, error.message, "unreadable format");
        }
        throw new StorageCorruptionError(
          file,
          offset,
          `record does not decode: ${(error as Error).message}`,
          corruptLog,
        );
      }
      if (expected === undefined && seq === 1 && record.sequence !== 1) expected = 1;
      if (expected !== undefined && record.sequence !== expected) {
        throw new StorageCorruptionError(
          file,
          offset,
          `record sequence number ${record.sequence}, expected ${expected}`,
          corruptLog,
        );
      }
      expected = record.sequence + 1;
      first ??= record.sequence;
      maxEntryIndex = Math.max(maxEntryIndex, maxAppendedIndex(record.ops));
      records.push({ file, offset, record });
    }
    if (scan.records.length === 0 && !isLast) {
      throw new StorageCorruptionError(
        file,
        0,
        "segment holds no records but is not the last",
        corruptLog,
      );
    }
    segments.push({
      seq,
      file,
      records: scan.records.length,
      firstSequence: first,
      lastSequence: first === undefined ? undefined : expected! - 1,
      maxEntryIndex,
      validLength: scan.validLength,
    });
  }
  return { records, segments, filesRead, truncatedTail, nextSequence: expected ?? 1 };
}

interface LoadedSnapshot {
  readonly meta: SnapshotMeta;
  readonly data: Uint8Array;
}

/** The newest committed snapshot whose file checks out; the ones that did not are fallbacks. */
function* loadNewestSnapshot(
  committed: ReadonlyMap<number, { meta: SnapshotMeta }>,
  files: ReadonlyMap<number, string>,
  filesRead: string[],
): Generator<
  Ask,
  { loaded: LoadedSnapshot | undefined; fallbacks: { file: string; reason: string }[] },
  unknown
> {
  const fallbacks: { file: string; reason: string }[] = [];
  const newestFirst = [...committed.keys()].sort((a, b) => b - a);
  for (const index of newestFirst) {
    const expected = committed.get(index)!.meta;
    const file = files.get(index);
    if (file === undefined) {
      fallbacks.push({ file: snapshotFileName(index), reason: "file is missing" });
      continue;
    }
    filesRead.push(file);
    try {
      const { meta, data } = decodeSnapshotFile(yield* readFile(file));
      if (encodeMeta(meta) !== encodeMeta(expected)) {
        throw new Error(
          `holds the meta of index ${meta.index} but not the one the log committed for index ${expected.index}`,
        );
      }
      // The log's copy of the meta is the one that was committed; the file's must match it.
      return { loaded: { meta, data }, fallbacks };
    } catch (error) {
      fallbacks.push({ file, reason: (error as Error).message });
    }
  }
  return { loaded: undefined, fallbacks };
}

/**
 * Replays the records through DurableStateBuilder, starting from the loaded snapshot.
 *
 * Compaction deletes whole segments whose entries the snapshot covers, so the log may begin in
 * the middle of history, and a replay that applied the snapshot where its record sits would meet
 * appends that do not connect. Instead the snapshot is applied first and every later op is
 * clipped to the entries above it (`floor`): entries at or below it are already in the snapshot.
 * This yields what an unclipped replay of the whole history would, for every entry above the
 * floor, which is all the state holds.
 *
 * A committed snapshot newer than the loaded one (its file was unusable) is accepted only if the
 * protocol's rules say the log stands in for it (Raft: the log still holds the entry at its
 * index with its term; by log matching it then holds everything the snapshot covered), and the
 * floor rises to it. Otherwise its contents are lost: refuse.
 *
 * Records (`put`/`delete`) are not clipped: they are not covered by snapshots.
 */
function replay(
  records: readonly ReadRecord[],
  base: LoadedSnapshot | undefined,
  fallbacks: readonly { file: string; reason: string }[],
  rules: DurableRules,
): DurableState {
  const builder = new DurableStateBuilder(rules);
  let floor = 0;
  if (base) {
    builder.apply({ type: "snapshot", meta: base.meta, data: base.data });
    floor = base.meta.index;
  }
  const apply = (op: WalOp): void => {
    switch (op.type) {
      case "hardState":
      case "put":
      case "delete":
        builder.apply(op);
        return;
      case "truncate":
        builder.apply({ type: "truncate", from: Math.max(op.from, floor + 1) });
        return;
      case "append": {
        const first = op.entries[0];
        const last = op.entries.at(-1);
        if (!first || !last) return;
        if (last.index <= floor) builder.apply({ type: "truncate", from: floor + 1 });
        else if (first.index <= floor)
          builder.apply({ type: "append", entries: op.entries.slice(floor + 1 - first.index) });
        else builder.apply(op);
        return;
      }
      case "snapshot": {
        if (op.meta.index <= floor) return;
        if (!rules.logCoversSnapshot(op.meta, builder.entryAt(op.meta.index))) {
          const file = snapshotFileName(op.meta.index);
          const why = fallbacks.find((f) => f.file === file)?.reason ?? "not loaded";
          throw new StorageCorruptionError(
            file,
            undefined,
            `unusable (${why}) and the log does not hold the entry ${op.meta.index} that it covers`,
            "the state it held is lost",
          );
        }
        floor = op.meta.index;
        return;
      }
    }
  };
  for (const { file, offset, record } of records) {
    record.ops.forEach((op, i) => {
      try {
        apply(op);
      } catch (error) {
        if (error instanceof StorageCorruptionError) throw error;
        throw new StorageCorruptionError(
          file,
          offset,
          `op ${i} (${op.type}) cannot be applied: ${(error as Error).message}`,
          corruptLog,
        );
      }
    });
  }
  return builder.build();
}

/** A canonical byte form of a meta, to compare the file's copy with the committed one. */
function encodeMeta(meta: SnapshotMeta): string {
  return Buffer.from(encode(snapshotMetaFields(meta))).toString("base64");
}
