import { promises as fs } from "node:fs";
import * as path from "node:path";
import { limits } from "../core/limits.js";
import type { DurableRules, DurableState, PersistOp, SnapshotMeta } from "../core/protocol.js";
import { parseSnapshotFileName } from "../durable/file-names.js";
import { recover } from "../durable/recovery.js";
import type { RecoveryReport } from "../durable/recovery-report.js";
import { checkWalOps, toWalOp, type WalOp } from "../durable/wal-record.js";
import { DirectoryLock } from "./directory-lock.js";
import { StorageClosedError, StorageFailedError } from "./errors.js";
import { directorySource, fsyncDirectory } from "./fs-directory.js";
import { writeSnapshotFile } from "./snapshot-writer.js";
import { emptyCounters, type StorageCounters, type StorageStats, withRates } from "./stats.js";
import {
  defaultKeepSnapshots,
  defaultSegmentBytes,
  type Storage,
  type StorageOptions,
} from "./storage.js";
import { WalWriter } from "./wal-writer.js";

interface Pending {
  readonly id: number;
  readonly ops: readonly WalOp[];
  readonly snapshots: readonly { readonly meta: SnapshotMeta; readonly data: Uint8Array }[];
}

interface Retained {
  readonly index: number;
  readonly sequence: number;
}

/**
 * Durable storage in one directory: a write-ahead log of checksummed records in segment files,
 * snapshot files written atomically, and a LOCK file. See docs/storage.md.
 *
 * Group commit: `append` only queues. One commit at a time writes everything queued (snapshot
 * files first, then one WAL write and one fdatasync) and then tells the durable listeners the
 * highest id it covered; appends that arrive meanwhile wait for the next commit, which covers
 * them all. An id is never reported before its bytes (and its snapshot file) are synced.
 */
export class FileStorage implements Storage {
  private queue: Pending[] = [];
  private lastId = 0;
  private durableId = 0;
  /** Newest snapshot index appended: an older or equal one is ignored, as DurableStateBuilder does. */
  private latestSnapshotIndex: number | undefined;
  private readonly durableListeners = new Set<(upTo: number) => void>();
  private readonly errorListeners = new Set<(error: Error) => void>();
  private waiters: { target: number; resolve: () => void; reject: (e: Error) => void }[] = [];
  private scheduled = false;
  /** The commit loop, while one runs. */
  private running: Promise<void> | undefined;
  private failure: StorageFailedError | undefined;
  private closing: Promise<void> | undefined;
  private readonly counters: StorageCounters;

  private constructor(
    readonly dir: string,
    private readonly lock: DirectoryLock,
    private readonly wal: WalWriter,
    /** Committed snapshots kept on disk, oldest first; the oldest bounds compaction. */
    private retained: Retained[],
    private readonly keepSnapshots: number,
    state: DurableState,
    stats: StorageCounters,
  ) {
    this.latestSnapshotIndex = state.snapshot?.meta.index;
    this.counters = stats;
  }

  /**
   * Locks the directory (creating it if needed), recovers its state, cuts a torn tail, deletes
   * uncommitted leftovers, and returns storage ready to append after what was recovered.
   * Throws StorageLockedError or StorageCorruptionError (docs/storage.md says what to do).
   */
  static async open(
    dir: string,
    rules: DurableRules,
    options: StorageOptions = {},
  ): Promise<{ storage: FileStorage; state: DurableState; report: RecoveryReport }> {
    const segmentBytes = options.segmentBytes ?? defaultSegmentBytes;
    const keepSnapshots = options.keepSnapshots ?? defaultKeepSnapshots;
    if (!(segmentBytes > 0)) throw new RangeError("segmentBytes must be positive");
    if (!Number.isInteger(keepSnapshots) || keepSnapshots < 1)
      throw new RangeError("keepSnapshots must be an integer ≥ 1");
    await fs.mkdir(dir, { recursive: true });
    const lock = await DirectoryLock.acquire(dir);
    try {
      const recovered = await recover(directorySource(dir), rules);
      const stats = emptyCounters();
      for (const file of recovered.report.discarded)
        await fs.rm(path.join(dir, file), { force: true });
      if (recovered.report.discarded.length > 0) {
        await fsyncDirectory(dir);
        stats.directorySyncs++;
      }
      const wal = await WalWriter.open(dir, recovered, segmentBytes, stats);
      const retained = recovered.snapshots
        .map((s) => ({ index: s.index, sequence: s.sequence }))
        .slice(-keepSnapshots);
      const storage = new FileStorage(
        dir,
        lock,
        wal,
        retained,
        keepSnapshots,
        recovered.state,
        stats,
      );
      return {
        storage,
        state: recovered.state,
        report: { ...recovered.report, staleLockPid: lock.tookOverFrom },
      };
    } catch (error) {
      await lock.release();
      throw error;
    }
  }

  append(id: number, ops: readonly PersistOp[]): void {
    if (this.closing) throw new StorageClosedError();
    if (this.failure) throw this.failure;
    if (!Number.isSafeInteger(id) || id <= this.lastId) {
      throw new RangeError(
        `persist id ${id} must be an integer above the last one, ${this.lastId}`,
      );
    }
    const walOps: WalOp[] = [];
    const snapshots: { meta: SnapshotMeta; data: Uint8Array }[] = [];
    let latest = this.latestSnapshotIndex;
    for (const op of ops) {
      if (op.type === "snapshot") {
        if (latest !== undefined && op.meta.index <= latest) continue;
        if (!(op.data instanceof Uint8Array)) {
          throw new RangeError(`persist ${id}: snapshot data must be a Uint8Array`);
        }
        latest = op.meta.index;
        snapshots.push({ meta: op.meta, data: op.data });
      }
      walOps.push(toWalOp(op));
    }
    try {
      checkWalOps(walOps);
    } catch (error) {
      throw new RangeError(`persist ${id} cannot be stored: ${(error as Error).message}`);
    }
    if (this.queue.length >= limits.storageQueuedPersists) {
      // The disk cannot keep up. Holding more would grow memory without bound; failing makes
      // the replica stop and restart from its directory, which every protocol tolerates.
      this.fail(
        new Error(
          `write queue full: ${this.queue.length} persists wait for the disk (limit ${limits.storageQueuedPersists})`,
        ),
      );
      throw this.failure!;
    }
    this.latestSnapshotIndex = latest;
    this.lastId = id;
    this.queue.push({ id, ops: walOps, snapshots });
    this.schedule();
  }

  onDurable(listener: (upTo: number) => void): () => void {
    this.durableListeners.add(listener);
    return () => this.durableListeners.delete(listener);
  }

  onError(listener: (error: Error) => void): () => void {
    this.errorListeners.add(listener);
    return () => this.errorListeners.delete(listener);
  }

  /** The highest id known durable. */
  get durableUpTo(): number {
    return this.durableId;
  }

  get stats(): StorageStats {
    return withRates(this.counters);
  }

  flush(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.durableId >= this.lastId) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.waiters.push({ target: this.lastId, resolve, reject });
    });
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      try {
        await this.flush();
      } finally {
        // Let a commit in progress finish (compaction may still be deleting files).
        await this.running;
        await this.wal.close();
        await this.lock.release();
      }
    })();
    return this.closing;
  }

  /** Commits on a microtask, so that appends made in the same turn share one commit. */
  private schedule(): void {
    if (this.scheduled || this.running) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.running ??= this.run().finally(() => {
        this.running = undefined;
      });
    });
  }

  /** Commits until the queue is empty; appends made meanwhile join the next commit. */
  private async run(): Promise<void> {
    try {
      while (this.queue.length > 0 && !this.failure) {
        const batch = this.queue;
        this.queue = [];
        await this.commit(batch);
      }
    } catch (error) {
      this.fail(error);
    }
  }

  private async commit(batch: readonly Pending[]): Promise<void> {
    // Snapshot files first: the WAL record is what commits each of them.
    for (const item of batch) {
      for (const { meta, data } of item.snapshots) {
        this.counters.snapshotBytes += await writeSnapshotFile(this.dir, meta, data);
        this.counters.snapshots++;
        this.counters.directorySyncs++;
      }
    }
    const first = await this.wal.write(batch.map((p) => p.ops));
    this.counters.records += batch.length;
    for (const item of batch) this.counters.ops += item.ops.length;

    const upTo = batch.at(-1)!.id;
    this.durableId = upTo;
    for (const listener of [...this.durableListeners]) {
      try {
        listener(upTo);
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
    this.waiters = this.waiters.filter((w) => {
      if (w.target > upTo) return true;
      w.resolve();
      return false;
    });

    const committed: Retained[] = [];
    batch.forEach((item, i) => {
      for (const { meta } of item.snapshots)
        committed.push({ index: meta.index, sequence: first + i });
    });
    if (committed.length > 0) await this.compact(committed);
  }

  /** After snapshots are durable: keep the newest few, delete what the oldest kept one covers. */
  private async compact(committed: readonly Retained[]): Promise<void> {
    this.retained = [...this.retained, ...committed].slice(-this.keepSnapshots);
    await this.wal.compact(this.retained[0]!);
    const keep = new Set(this.retained.map((r) => r.index));
    let deleted = 0;
    for (const name of await fs.readdir(this.dir)) {
      const index = parseSnapshotFileName(name);
      if (index === undefined || keep.has(index)) continue;
      await fs.rm(path.join(this.dir, name), { force: true });
      this.counters.snapshotsDeleted++;
      deleted++;
    }
    if (deleted > 0) {
      await fsyncDirectory(this.dir);
      this.counters.directorySyncs++;
    }
  }

  private fail(error: unknown): void {
    this.failure = error instanceof StorageFailedError ? error : new StorageFailedError(error);
    const failure = this.failure;
    for (const w of this.waiters) w.reject(failure);
    this.waiters = [];
    for (const listener of [...this.errorListeners]) listener(failure);
  }
}
