/** What `FileStorage.open` found and did, for logs and operators. */
export interface RecoveryReport {
  /** The directory held no WAL: storage starts empty. */
  readonly fresh: boolean;
  /** Files read, in order (segments, then the snapshot files tried). */
  readonly filesRead: readonly string[];
  /** WAL segments replayed. */
  readonly segments: number;
  /** WAL records replayed (persist records and segment checkpoints). */
  readonly records: number;
  /** Sequence number of the last record replayed (0 if none). */
  readonly lastSequence: number;
  /** A torn write at the end of the last segment, cut off. */
  readonly truncatedTail:
    | {
        readonly file: string;
        readonly offset: number;
        readonly bytesDropped: number;
        readonly reason: string;
      }
    | undefined;
  /** The snapshot the state starts from. */
  readonly snapshotUsed: { readonly file: string; readonly index: number } | undefined;
  /** Snapshot files that are committed by the log but could not be used, newest first. */
  readonly fallbacks: readonly { readonly file: string; readonly reason: string }[];
  /**
   * Files deleted because nothing commits them: snapshot temp files and snapshot files whose
   * WAL record never became durable (a crash in the middle of a persist).
   */
  readonly discarded: readonly string[];
  /** The pid of a dead process whose LOCK file was taken over. */
  readonly staleLockPid: number | undefined;
}
