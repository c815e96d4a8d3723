import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { DurableStateBuilder } from "../../src/core/durable-state-builder.js";
import type { LogEntry } from "../../src/core/log-entry.js";
import { createRandom, type Random } from "../../src/core/prng.js";
import type { DurableState, PersistOp } from "../../src/core/protocol.js";
import { lockFileName } from "../../src/durable/file-names.js";
import type { RecoverySource } from "../../src/durable/recovery.js";
import { readRecords, recordHeaderBytes } from "../../src/platform/record-framing.js";
import { raftDurableRules } from "../../src/protocols/raft/contract.js";

/** The durable rules storage tests recover with (Raft's: a gap-free log). */
export const rules = raftDurableRules;

export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "lockstep-storage-"));
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Replays persists in memory: what recovery must return after they are all durable. */
export function expectedState(persists: readonly (readonly PersistOp[])[]): DurableState {
  const builder = new DurableStateBuilder(raftDurableRules);
  for (const ops of persists) for (const op of ops) builder.apply(op);
  return builder.build();
}

/**
 * Generates a valid history of persist calls, the way a protocol core would issue them: hard
 * state changes, appends (some replacing the tail), truncations and snapshots, each a legal
 * step for DurableStateBuilder.
 */
export class PersistGenerator {
  private readonly builder = new DurableStateBuilder(raftDurableRules);
  private readonly random: Random;
  private term = 1;
  private time = 1_000;
  private seq = 0;
  readonly persists: PersistOp[][] = [];

  constructor(
    seed: number,
    /** Bounds on the size of what is generated (smaller records: cheaper crash states). */
    private readonly size = { entries: 3, commands: 3, value: 40 },
  ) {
    this.random = createRandom(seed);
  }

  get state(): DurableState {
    return this.builder.build();
  }

  /** Appends one persist of random ops and returns it. */
  next(kinds: { snapshot?: boolean } = {}): PersistOp[] {
    const ops: PersistOp[] = [];
    const add = (op: PersistOp | undefined): void => {
      if (!op) return;
      this.builder.apply(op);
      ops.push(op);
    };
    const roll = this.random.int(100);
    if (roll < 10) {
      this.term += 1;
      add({ type: "hardState", state: { term: this.term, vote: this.random.int(5) } });
    }
    if (kinds.snapshot === true || (kinds.snapshot !== false && roll >= 90)) add(this.snapshotOp());
    else if (roll >= 82) add(this.truncateOp());
    add(this.appendOp(roll >= 70 && roll < 82));
    this.persists.push(ops);
    return ops;
  }

  /** A persist holding only a snapshot of the current log (must have entries to snapshot). */
  snapshot(): PersistOp[] | undefined {
    const op = this.snapshotOp();
    if (!op) return undefined;
    this.builder.apply(op);
    this.persists.push([op]);
    return [op];
  }

  private lastIndex(state: DurableState): number {
    return state.entries.at(-1)?.index ?? state.snapshot?.meta.index ?? 0;
  }

  private appendOp(replace: boolean): PersistOp {
    const state = this.builder.build();
    const base = state.snapshot?.meta.index ?? 0;
    const last = this.lastIndex(state);
    // Replacing the tail: start somewhere after the snapshot, at or before the end.
    const first = replace && last > base ? base + 1 + this.random.int(last - base) : last + 1;
    const count = 1 + this.random.int(this.size.entries);
    const entries: LogEntry[] = [];
    for (let i = 0; i < count; i++) entries.push(this.entry(first + i));
    return { type: "append", entries };
  }

  private truncateOp(): PersistOp {
    const state = this.builder.build();
    const base = state.snapshot?.meta.index ?? 0;
    const last = this.lastIndex(state);
    return { type: "truncate", from: base + 1 + this.random.int(Math.max(1, last - base)) };
  }

  private snapshotOp(): PersistOp | undefined {
    const state = this.builder.build();
    if (state.entries.length === 0) return undefined;
    const at = state.entries[this.random.int(state.entries.length)]!;
    const data = new Uint8Array(16 + this.random.int(200));
    for (let i = 0; i < data.length; i++) data[i] = this.random.int(256);
    return {
      type: "snapshot",
      meta: { index: at.index, protocol: { term: at.term }, config: { members: [0, 1, 2] } },
      data,
    };
  }

  private entry(index: number): LogEntry {
    this.time += 1 + this.random.int(50);
    if (this.random.int(10) === 0) {
      return {
        index,
        term: this.term,
        time: this.time,
        seed: this.random.int(1 << 30),
        payload: { type: "noop" },
      };
    }
    const commands = [];
    const n = 1 + this.random.int(this.size.commands);
    for (let i = 0; i < n; i++) {
      commands.push({
        client: `client-${this.random.int(4)}`,
        seq: ++this.seq,
        ackedBelow: Math.max(0, this.seq - 3),
        cmd: {
          op: "put",
          key: `k${this.random.int(20)}`,
          value: "x".repeat(this.random.int(this.size.value)),
        },
      });
    }
    return {
      index,
      term: this.term,
      time: this.time,
      seed: this.random.int(1 << 30),
      payload: { type: "commands", commands },
    };
  }
}

/** Reads a storage directory into memory (without its LOCK file). */
export function readDirectory(dir: string): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  for (const name of fs.readdirSync(dir).sort()) {
    if (name === lockFileName) continue;
    files.set(name, new Uint8Array(fs.readFileSync(path.join(dir, name))));
  }
  return files;
}

/** The same files as a recovery source, as the crash tests feed them to `recover`. */
export function memorySource(files: ReadonlyMap<string, Uint8Array>): RecoverySource {
  return {
    list: async () => [...files.keys()],
    read: async (file) => {
      const bytes = files.get(file);
      if (!bytes) throw Object.assign(new Error(`ENOENT: ${file}`), { code: "ENOENT" });
      return bytes;
    },
  };
}

/** [start, end) of every record in a segment, from the core framing alone. */
export function recordBounds(bytes: Uint8Array): { start: number; end: number }[] {
  const { records, validLength } = readRecords(bytes);
  if (validLength !== bytes.length) throw new Error("segment is not clean");
  const bounds: { start: number; end: number }[] = [];
  let at = 0;
  for (const payload of records) {
    const end = at + recordHeaderBytes + payload.length;
    bounds.push({ start: at, end });
    at = end;
  }
  return bounds;
}

export function segmentNames(files: ReadonlyMap<string, Uint8Array> | readonly string[]): string[] {
  const names = Array.isArray(files) ? files : [...(files as Map<string, Uint8Array>).keys()];
  return names.filter((n) => n.startsWith("wal-")).sort();
}
