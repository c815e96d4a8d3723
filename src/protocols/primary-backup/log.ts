import type { LogIndex } from "../../core/ids.js";
import type { LogEntry } from "../../core/log-entry.js";
import type { Epoch } from "./messages.js";

/**
 * The in-memory copy of a replica's log: a snapshot point (index, epoch and time of its last
 * entry) followed by gap-free entries. Each entry's `term` is the epoch of the primary that
 * created it; one primary per epoch makes (index, epoch) name one entry everywhere.
 */
export class PbLog {
  private entries: LogEntry[];

  constructor(
    public snapIndex: LogIndex,
    public snapEpoch: Epoch,
    public snapTime: number,
    entries: readonly LogEntry[],
  ) {
    this.entries = [...entries];
    this.entries.forEach((e, i) => {
      if (e.index !== snapIndex + 1 + i)
        throw new Error(`primary-backup log: entry ${e.index} where ${snapIndex + 1 + i} belongs`);
    });
  }

  get lastIndex(): LogIndex {
    return this.snapIndex + this.entries.length;
  }

  get lastEpoch(): Epoch {
    return this.entries.at(-1)?.term ?? this.snapEpoch;
  }

  get lastTime(): number {
    return this.entries.at(-1)?.time ?? this.snapTime;
  }

  /** The epoch of the entry at `index`, or undefined if it is compacted away or beyond the end. */
  epochAt(index: LogIndex): Epoch | undefined {
    if (index === this.snapIndex) return this.snapEpoch;
    return this.at(index)?.term;
  }

  at(index: LogIndex): LogEntry | undefined {
    if (index <= this.snapIndex) return undefined;
    return this.entries[index - this.snapIndex - 1];
  }

  /** Entries in [from, to], both present in memory. */
  slice(from: LogIndex, to: LogIndex): LogEntry[] {
    if (from <= this.snapIndex) throw new Error(`primary-backup log: ${from} is compacted`);
    return this.entries.slice(from - this.snapIndex - 1, to - this.snapIndex);
  }

  append(entry: LogEntry): void {
    if (entry.index !== this.lastIndex + 1)
      throw new Error(`primary-backup log: append ${entry.index} after ${this.lastIndex}`);
    this.entries.push(entry);
  }

  /** Drops entries with index ≥ from. */
  truncateFrom(from: LogIndex): void {
    if (from <= this.snapIndex)
      throw new Error(`primary-backup log: truncate ${from} into the snapshot`);
    this.entries.length = Math.max(0, Math.min(this.entries.length, from - this.snapIndex - 1));
  }

  /** Forgets entries up to `index` (a snapshot holds them now). */
  compactTo(index: LogIndex): void {
    if (index <= this.snapIndex) return;
    const entry = this.at(index);
    if (!entry) throw new Error(`primary-backup log: compact to ${index} beyond ${this.lastIndex}`);
    this.entries = this.entries.slice(index - this.snapIndex);
    this.snapIndex = index;
    this.snapEpoch = entry.term;
    this.snapTime = entry.time;
  }

  /** Replaces everything by a snapshot point (state transfer whose tail did not match). */
  reset(index: LogIndex, epoch: Epoch, time: number): void {
    this.entries = [];
    this.snapIndex = index;
    this.snapEpoch = epoch;
    this.snapTime = time;
  }
}
