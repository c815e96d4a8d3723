/** Counters of what a FileStorage has done since it was opened. */
export interface StorageCounters {
  /** Persist records written to the WAL (one per `append` call). */
  records: number;
  /** Persist ops in those records. */
  ops: number;
  /** Checkpoint records written at the start of segments. */
  checkpoints: number;
  /** Bytes written to the WAL. */
  walBytes: number;
  /** fdatasync calls on WAL segments: each one is a group commit. */
  fsyncs: number;
  /** Snapshot files written, and their bytes. */
  snapshots: number;
  snapshotBytes: number;
  /** fsync calls on the directory (new segments, renamed snapshots, deletions). */
  directorySyncs: number;
  /** WAL segments and snapshot files deleted by compaction. */
  segmentsDeleted: number;
  snapshotsDeleted: number;
  /** WAL segments currently in the directory. */
  segments: number;
}

/** The counters, and how well group commit is batching. */
export interface StorageStats extends StorageCounters {
  /** Persist records per WAL fdatasync. */
  readonly recordsPerFsync: number;
  /** Persist ops per WAL fdatasync. */
  readonly opsPerFsync: number;
}

export function emptyCounters(): StorageCounters {
  return {
    records: 0,
    ops: 0,
    checkpoints: 0,
    walBytes: 0,
    fsyncs: 0,
    snapshots: 0,
    snapshotBytes: 0,
    directorySyncs: 0,
    segmentsDeleted: 0,
    snapshotsDeleted: 0,
    segments: 0,
  };
}

export function withRates(counters: StorageCounters): StorageStats {
  const per = (n: number) => (counters.fsyncs === 0 ? 0 : n / counters.fsyncs);
  return { ...counters, recordsPerFsync: per(counters.records), opsPerFsync: per(counters.ops) };
}
