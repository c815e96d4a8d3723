import type { LogIndex, Term } from "../../core/ids.js";
import type { LogEntry } from "../../core/log-entry.js";
import { invariant } from "./types.js";

/**
 * The in-memory Raft log. Entries at or below `offset` have been compacted away (they are in a
 * snapshot); the term of the entry at `offset` is remembered so AppendEntries consistency checks
 * work right above it. Index 0 has term 0.
 */
export class RaftLog {
  private entries: LogEntry[] = [];
  private offsetIndex: LogIndex;
  private offsetTerm: Term;

  constructor(offsetIndex: LogIndex = 0, offsetTerm: Term = 0) {
    this.offsetIndex = offsetIndex;
    this.offsetTerm = offsetTerm;
  }

  /** Index of the last compacted entry (0 when nothing was compacted). */
  get offset(): LogIndex {
    return this.offsetIndex;
  }

  get lastIndex(): LogIndex {
    return this.offsetIndex + this.entries.length;
  }

  get lastTerm(): Term {
    return this.entries.at(-1)?.term ?? this.offsetTerm;
  }

  /** Number of entries held in memory. */
  get size(): number {
    return this.entries.length;
  }

  /** The term of the entry at `index`, or undefined when it is compacted or beyond the end. */
  term(index: LogIndex): Term | undefined {
    if (index === this.offsetIndex) return this.offsetTerm;
    if (index < this.offsetIndex || index > this.lastIndex) return undefined;
    return this.entries[index - this.offsetIndex - 1]!.term;
  }

  entry(index: LogIndex): LogEntry | undefined {
    if (index <= this.offsetIndex) return undefined;
    return this.entries[index - this.offsetIndex - 1];
  }

  /** Entries from..to inclusive; both must be held in memory. */
  slice(from: LogIndex, to: LogIndex): LogEntry[] {
    if (to < from) return [];
    invariant(
      from > this.offsetIndex && to <= this.lastIndex,
      () => `log slice ${from}..${to} outside ${this.offsetIndex + 1}..${this.lastIndex}`,
    );
    return this.entries.slice(from - this.offsetIndex - 1, to - this.offsetIndex);
  }

  /** Appends entries that continue the log: consecutive indexes, terms never decreasing. */
  append(entries: readonly LogEntry[]): void {
    for (const entry of entries) {
      invariant(
        entry.index === this.lastIndex + 1,
        () => `log append: entry ${entry.index} does not follow last index ${this.lastIndex}`,
      );
      invariant(
        entry.term >= this.lastTerm,
        () => `log append: entry ${entry.index} has term ${entry.term} below ${this.lastTerm}`,
      );
      this.entries.push(entry);
    }
  }

  /** Drops entries with index ≥ from. */
  truncateFrom(from: LogIndex): void {
    invariant(
      from > this.offsetIndex,
      () => `log truncate from ${from} at or below compacted ${this.offsetIndex}`,
    );
    if (from > this.lastIndex) return;
    this.entries.length = from - this.offsetIndex - 1;
  }

  /** Drops entries up to and including `index` (which must be held or be the offset). */
  compactTo(index: LogIndex): void {
    if (index <= this.offsetIndex) return;
    const term = this.term(index);
    invariant(
      term !== undefined,
      () => `log compact to ${index} beyond last index ${this.lastIndex}`,
    );
    this.entries = this.entries.slice(index - this.offsetIndex);
    this.offsetIndex = index;
    this.offsetTerm = term;
  }

  /** Discards everything and restarts the log right after a snapshot at (index, term). */
  reset(index: LogIndex, term: Term): void {
    this.entries = [];
    this.offsetIndex = index;
    this.offsetTerm = term;
  }

  /**
   * First index of the run of entries with term `term` that contains `index` (searching down,
   * never below the first held entry). Used for the follower's conflict hint.
   */
  firstIndexOfTermRun(index: LogIndex, term: Term): LogIndex {
    let i = index;
    while (i - 1 > this.offsetIndex && this.term(i - 1) === term) i--;
    return i;
  }

  /**
   * The last index at or below `atMost` whose entry has term `term`, or undefined when there is
   * none in memory. Used by the leader to act on a conflict hint.
   */
  lastIndexOfTerm(term: Term, atMost: LogIndex): LogIndex | undefined {
    for (let i = Math.min(atMost, this.lastIndex); i > this.offsetIndex; i--) {
      const t = this.term(i)!;
      if (t === term) return i;
      if (t < term) return undefined;
    }
    return undefined;
  }
}
