import type { ReplyResult } from "../core/client-messages.js";
import type { LogEntry } from "../core/log-entry.js";
import type { AppliedCommand } from "../core/replicated-service.js";
import type { Value } from "../core/value.js";
import { digestHex } from "./trace-hash.js";
import { combineDigests, digestValue } from "./value-digest.js";

/**
 * Safety invariants checked at every step of a run, over the replicas considered correct:
 * - executed sequences are prefixes of one another (same entry at every index),
 * - the results of execution agree at every index (a hash chain over entries and results),
 * - snapshots taken at equal indexes are byte-identical,
 * - a client accepts only a result some correct replica produced.
 */
export class ReplicationChecker {
  readonly violations: string[] = [];
  /** Canonical entry digest and result chain per log index. */
  private readonly entryAt = new Map<number, number>();
  private readonly chainAt = new Map<number, number>();
  /** Per replica: the chain value after its last applied index (undefined value: unknown, after a snapshot nobody else applied). */
  private readonly chain = new Map<number, { index: number; value: number | undefined }>();
  private readonly snapshotAt = new Map<number, string>();
  private readonly produced = new Map<string, number | Set<number>>();
  appliedEntries = 0;

  constructor(private readonly now: () => number) {}

  private fail(message: string): void {
    if (this.violations.length < 20)
      this.violations.push(`t=${(this.now() / 1000).toFixed(3)}ms ${message}`);
  }

  /** A replica restarted or installed a snapshot at `index`: its chain continues from the canonical one there. */
  resetReplica(replica: number, index: number): void {
    this.chain.set(replica, { index, value: index === 0 ? 0 : this.chainAt.get(index) });
  }

  /** `state`: replicated state the entry changed besides command results (the access table). */
  onApply(
    replica: number,
    entry: LogEntry,
    results: readonly AppliedCommand[],
    state?: Value,
  ): void {
    this.appliedEntries++;
    const entryDigest = digestValue(entry);
    const known = this.entryAt.get(entry.index);
    if (known === undefined) this.entryAt.set(entry.index, entryDigest);
    else if (known !== entryDigest) {
      this.fail(
        `replica ${replica} executed a different entry at index ${entry.index} than another execution did`,
      );
    }
    const previous = this.chain.get(replica);
    if (previous && previous.index !== entry.index - 1) {
      this.fail(`replica ${replica} applied index ${entry.index} right after ${previous.index}`);
    }
    const value =
      previous?.value === undefined
        ? undefined
        : combineDigests(
            previous.value,
            entryDigest,
            digestValue(state === undefined ? results : [results as unknown as Value, state]),
          );
    this.chain.set(replica, { index: entry.index, value });
    if (value !== undefined) {
      const canonical = this.chainAt.get(entry.index);
      if (canonical === undefined) this.chainAt.set(entry.index, value);
      else if (canonical !== value && known === entryDigest) {
        this.fail(
          `replica ${replica} diverged at index ${entry.index}: same entries, different results or history`,
        );
      }
    }
    for (const r of results) this.produce(`${r.client}#${r.seq}`, r.result);
  }

  /**
   * A replica executed an entry tentatively (PBFT §5.1.2). Agreement is about committed entries,
   * so only `onApply` (when it commits) checks the entry; its results count as produced, since a
   * client may accept them on 2f+1 matching tentative replies. A rollback is `resetReplica`.
   */
  onTentative(results: readonly AppliedCommand[]): void {
    for (const r of results) this.produce(`${r.client}#${r.seq}`, r.result);
  }

  onQuery(client: string, qid: number, result: ReplyResult): void {
    this.produce(`${client}?${qid}`, result);
  }

  onSnapshot(replica: number, index: number, data: Uint8Array): void {
    const digest = digestHex(data);
    const known = this.snapshotAt.get(index);
    if (known === undefined) this.snapshotAt.set(index, digest);
    else if (known !== digest)
      this.fail(`replica ${replica} snapshot at index ${index} differs from another replica's`);
  }

  private produce(key: string, result: ReplyResult): void {
    const digest = digestValue(result);
    const existing = this.produced.get(key);
    if (existing === undefined) this.produced.set(key, digest);
    else if (typeof existing === "number") {
      if (existing !== digest) this.produced.set(key, new Set([existing, digest]));
    } else existing.add(digest);
  }

  /** A client accepted `result` for command `seq` (or query `qid`). */
  onAccept(client: string, kind: "command" | "query", key: number, result: ReplyResult): void {
    const id = kind === "command" ? `${client}#${key}` : `${client}?${key}`;
    const digest = digestValue(result);
    const known = this.produced.get(id);
    const ok = typeof known === "number" ? known === digest : (known?.has(digest) ?? false);
    if (!ok)
      this.fail(
        `client ${client} accepted a result for ${kind} ${key} that no correct replica produced`,
      );
  }
}
