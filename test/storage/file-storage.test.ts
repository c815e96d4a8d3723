import * as fs from "node:fs";
import * as path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { LogEntry } from "../../src/core/log-entry.js";
import type { PersistOp } from "../../src/core/protocol.js";
import { recover } from "../../src/durable/recovery.js";
import { StorageClosedError, StorageFailedError } from "../../src/storage/errors.js";
import { FileStorage } from "../../src/storage/file-storage.js";
import { WalWriter } from "../../src/storage/wal-writer.js";
import {
  expectedState,
  memorySource,
  PersistGenerator,
  readDirectory,
  removeDir,
  rules,
  segmentNames,
  tempDir,
} from "./helpers.js";

const dirs: string[] = [];
function newDir(): string {
  const dir = tempDir();
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) removeDir(dir);
});

function entry(index: number, term: number, tag = ""): LogEntry {
  return {
    index,
    term,
    time: 1000 + index,
    seed: index * 7,
    payload: {
      type: "commands",
      commands: [{ client: "c1", seq: index, ackedBelow: 0, cmd: { put: `v${index}${tag}` } }],
    },
  };
}

function entries(from: number, to: number, term: number, tag = ""): LogEntry[] {
  const out: LogEntry[] = [];
  for (let i = from; i <= to; i++) out.push(entry(i, term, tag));
  return out;
}

describe("FileStorage", () => {
  it("opens a fresh directory (creating it), and locks it until closed", async () => {
    const dir = path.join(newDir(), "a", "b");
    const { storage, state, report } = await FileStorage.open(dir, rules);
    expect(state).toEqual({
      hardState: undefined,
      snapshot: undefined,
      entries: [],
      records: new Map(),
    });
    expect(report.fresh).toBe(true);
    expect(fs.readdirSync(dir).sort()).toEqual(["LOCK", "wal-0000000001.log"]);
    expect(fs.readFileSync(path.join(dir, "LOCK"), "utf8")).toBe(`${process.pid}\n`);
    await storage.close();
    expect(fs.readdirSync(dir)).toEqual(["wal-0000000001.log"]);
    const again = await FileStorage.open(dir, rules);
    expect(again.report.fresh).toBe(false);
    expect(again.state.entries).toEqual([]);
    await again.storage.close();
  });

  it("round trip: hard state, overlapping appends, truncate and snapshot come back as the builder replays them", async () => {
    const dir = newDir();
    const persists: PersistOp[][] = [
      [{ type: "hardState", state: { term: 1, vote: 0 } }],
      [{ type: "append", entries: entries(1, 5, 1) }],
      // Replaces 4..5 with new entries of term 2 and extends to 7.
      [
        { type: "hardState", state: { term: 2, vote: 1 } },
        { type: "append", entries: entries(4, 7, 2, "b") },
      ],
      [{ type: "truncate", from: 7 }],
      [
        {
          type: "snapshot",
          meta: { index: 3, protocol: { term: 1 }, config: { members: [0, 1, 2] } },
          data: new Uint8Array([1, 2, 3, 4]),
        },
        { type: "append", entries: entries(7, 9, 2, "c") },
      ],
      [{ type: "hardState", state: { term: 3, vote: null } }],
    ];
    const { storage } = await FileStorage.open(dir, rules);
    for (const [i, ops] of persists.entries()) storage.append(i + 1, ops);
    await storage.flush();
    await storage.close();

    const reopened = await FileStorage.open(dir, rules);
    expect(reopened.state).toEqual(expectedState(persists));
    expect(reopened.state.snapshot?.meta.index).toBe(3);
    expect(reopened.state.entries.map((e) => e.index)).toEqual([4, 5, 6, 7, 8, 9]);
    expect(reopened.report.snapshotUsed).toEqual({
      file: "snapshot-0000000000000003.snap",
      index: 3,
    });
    await reopened.storage.close();
  });

  it("keeps the snapshot's leader time, so entry times stay monotonic after a restart from it", async () => {
    const dir = newDir();
    const { storage } = await FileStorage.open(dir, rules);
    storage.append(1, [{ type: "append", entries: entries(1, 4, 1) }]);
    storage.append(2, [
      {
        type: "snapshot",
        meta: { index: 4, protocol: { term: 1 }, config: null, time: 1004 },
        data: new Uint8Array([9]),
      },
    ]);
    await storage.flush();
    await storage.close();
    const reopened = await FileStorage.open(dir, rules);
    expect(reopened.state.snapshot?.meta).toEqual({
      index: 4,
      protocol: { term: 1 },
      config: null,
      time: 1004,
    });
    await reopened.storage.close();
  });

  it("round trip of a long generated history, across several reopenings", async () => {
    const dir = newDir();
    const gen = new PersistGenerator(11);
    for (let round = 0; round < 4; round++) {
      const { storage, state } = await FileStorage.open(dir, rules, { segmentBytes: 8 * 1024 });
      expect(state).toEqual(expectedState(gen.persists));
      // Persist ids restart at 1 in every process, as a fresh protocol core numbers them.
      for (let id = 1; id <= 150; id++) {
        storage.append(id, gen.next());
        if (id % 37 === 0) await storage.flush();
      }
      await storage.close();
    }
    const { storage, state } = await FileStorage.open(dir, rules);
    expect(state).toEqual(expectedState(gen.persists));
    await storage.close();
  });

  it("group commit: many appends share fsyncs, durable callbacks are increasing and end at the last id", async () => {
    const dir = newDir();
    const { storage } = await FileStorage.open(dir, rules);
    const gen = new PersistGenerator(3);
    const seen: number[] = [];
    storage.onDurable((upTo) => seen.push(upTo));
    const n = 2000;
    // Bursts of appends separated by turns of the event loop, as a busy replica produces them.
    for (let id = 1; id <= n; id++) {
      storage.append(id, gen.next({ snapshot: false }));
      if (id % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await storage.flush();
    const stats = storage.stats;
    expect(stats.records).toBe(n);
    expect(stats.fsyncs).toBeLessThan(n / 10);
    expect(seen.at(-1)).toBe(n);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!).toBeGreaterThan(seen[i - 1]!);
    console.info(
      `group commit: ${stats.records} records (${stats.ops} ops) in ${stats.fsyncs} fdatasyncs: ` +
        `${stats.recordsPerFsync.toFixed(1)} records/fsync, ${stats.opsPerFsync.toFixed(1)} ops/fsync, ` +
        `${stats.walBytes} bytes`,
    );
    await storage.close();
    const { storage: again, state } = await FileStorage.open(dir, rules);
    expect(state).toEqual(expectedState(gen.persists));
    await again.close();
  });

  it("one append at a time, each awaited, costs one fsync each", async () => {
    const dir = newDir();
    const { storage } = await FileStorage.open(dir, rules);
    const gen = new PersistGenerator(4);
    for (let id = 1; id <= 20; id++) {
      storage.append(id, gen.next({ snapshot: false }));
      await storage.flush();
    }
    // Plus the checkpoint written when the fresh directory was opened.
    expect(storage.stats.fsyncs).toBe(21);
    await storage.close();
  });

  it("reports an id durable only when the directory already recovers it (snapshot file included)", async () => {
    const dir = newDir();
    const { storage } = await FileStorage.open(dir, rules, { segmentBytes: 4096 });
    const gen = new PersistGenerator(5);
    const images: { upTo: number; files: Map<string, Uint8Array> }[] = [];
    storage.onDurable((upTo) => images.push({ upTo, files: readDirectory(dir) }));
    for (let id = 1; id <= 300; id++) {
      storage.append(id, id % 25 === 0 ? (gen.snapshot() ?? gen.next()) : gen.next());
      if (id % 13 === 0) await storage.flush();
    }
    await storage.flush();
    expect(images.length).toBeGreaterThan(20);
    for (const { upTo, files } of images) {
      const { state } = await recover(memorySource(files), rules);
      expect(state).toEqual(expectedState(gen.persists.slice(0, upTo)));
    }
    await storage.close();
  });

  it("rotates segments and, after snapshots, deletes covered segments and older snapshot files", async () => {
    const dir = newDir();
    const { storage } = await FileStorage.open(dir, rules, { segmentBytes: 2048 });
    const gen = new PersistGenerator(6);
    for (let id = 1; id <= 600; id++) {
      storage.append(
        id,
        id % 60 === 0 ? (gen.snapshot() ?? gen.next()) : gen.next({ snapshot: false }),
      );
      if (id % 10 === 0) await storage.flush();
    }
    // close() waits for the compaction that follows the last snapshot's commit.
    await storage.close();
    const stats = storage.stats;
    expect(stats.segmentsDeleted).toBeGreaterThan(10);
    expect(stats.snapshots).toBe(10);
    expect(stats.snapshotsDeleted).toBe(8);
    const files = fs.readdirSync(dir);
    expect(segmentNames(files).length).toBe(stats.segments);
    expect(files.filter((f) => f.endsWith(".snap")).length).toBe(2);
    expect(segmentNames(files)[0]).not.toBe("wal-0000000001.log");

    const reopened = await FileStorage.open(dir, rules, { segmentBytes: 2048 });
    expect(reopened.state).toEqual(expectedState(gen.persists));
    expect(reopened.report.segments).toBe(stats.segments);
    await reopened.storage.close();
  });

  it("keeps the hard state when the segment that recorded it is deleted", async () => {
    const dir = newDir();
    const { storage } = await FileStorage.open(dir, rules, { segmentBytes: 1024 });
    const hardState = { term: 7, vote: 2, note: "only written once" };
    storage.append(1, [
      { type: "hardState", state: hardState },
      { type: "append", entries: entries(1, 3, 7) },
    ]);
    let index = 3;
    for (let id = 2; id <= 200; id++) {
      const ops: PersistOp[] = [{ type: "append", entries: entries(index + 1, index + 2, 7) }];
      index += 2;
      if (id % 50 === 0) {
        ops.push({
          type: "snapshot",
          meta: { index, protocol: { term: 7 }, config: null },
          data: new Uint8Array([id]),
        });
      }
      storage.append(id, ops);
      await storage.flush();
    }
    await storage.close();
    const names = segmentNames(fs.readdirSync(dir));
    expect(names).not.toContain("wal-0000000001.log");
    const { storage: again, state } = await FileStorage.open(dir, rules);
    expect(state.hardState).toEqual(hardState);
    expect(state.snapshot?.meta.index).toBe(index);
    expect(state.entries).toEqual([]);
    await again.close();
  });

  it("ignores a snapshot no newer than the last one, as the builder does", async () => {
    const dir = newDir();
    const { storage } = await FileStorage.open(dir, rules);
    const snap = (index: number, byte: number): PersistOp => ({
      type: "snapshot",
      meta: { index, protocol: { term: 1 }, config: null },
      data: new Uint8Array([byte]),
    });
    const persists: PersistOp[][] = [
      [{ type: "append", entries: entries(1, 10, 1) }],
      [snap(8, 1)],
      [snap(5, 2)],
      [snap(8, 3)],
    ];
    for (const [i, ops] of persists.entries()) storage.append(i + 1, ops);
    await storage.close();
    expect(fs.readdirSync(dir).filter((f) => f.endsWith(".snap"))).toEqual([
      "snapshot-0000000000000008.snap",
    ]);
    const { storage: again, state } = await FileStorage.open(dir, rules);
    expect(state).toEqual(expectedState(persists));
    expect(state.snapshot?.data).toEqual(new Uint8Array([1]));
    await again.close();
  });

  it("refuses bad input up front, so it never writes a record it could not read back", async () => {
    const dir = newDir();
    const { storage } = await FileStorage.open(dir, rules);
    storage.append(1, [{ type: "append", entries: entries(1, 1, 1) }]);
    expect(() => storage.append(1, [])).toThrow(RangeError);
    const bad = { ...entry(2, 1), extra: true } as unknown as LogEntry;
    expect(() => storage.append(2, [{ type: "append", entries: [bad] }])).toThrow(
      /persist 2 cannot be stored: .*extra: expected no such field/,
    );
    const undefinedValue = {
      type: "hardState",
      state: { term: undefined },
    } as unknown as PersistOp;
    expect(() => storage.append(2, [undefinedValue])).toThrow(RangeError);
    storage.append(2, [{ type: "append", entries: entries(2, 2, 1) }]);
    await storage.close();
    expect(() => storage.append(3, [])).toThrow(StorageClosedError);
    const { storage: again, state } = await FileStorage.open(dir, rules);
    expect(state.entries.map((e) => e.index)).toEqual([1, 2]);
    await again.close();
  });

  it("fails stop on an I/O error: nothing more is reported durable, flush rejects, appends throw", async () => {
    const dir = newDir();
    const { storage } = await FileStorage.open(dir, rules);
    const durable: number[] = [];
    const errors: Error[] = [];
    storage.onDurable((upTo) => durable.push(upTo));
    storage.onError((error) => errors.push(error));
    storage.append(1, [{ type: "append", entries: entries(1, 1, 1) }]);
    await storage.flush();
    const write = vi
      .spyOn(WalWriter.prototype, "write")
      .mockRejectedValueOnce(
        Object.assign(new Error("EIO: i/o error, fdatasync"), { code: "EIO" }),
      );
    try {
      storage.append(2, [{ type: "append", entries: entries(2, 2, 1) }]);
      await expect(storage.flush()).rejects.toThrow(StorageFailedError);
      expect(errors.map((e) => e.message)).toEqual([
        "storage failed: EIO: i/o error, fdatasync; no further writes are accepted, restart the replica to recover from the directory",
      ]);
      expect(durable).toEqual([1]);
      expect(() => storage.append(3, [])).toThrow(StorageFailedError);
      await expect(storage.close()).rejects.toThrow(StorageFailedError);
    } finally {
      write.mockRestore();
    }
    // The lock was released; what reached the disk is recovered.
    const again = await FileStorage.open(dir, rules);
    expect(again.state.entries.map((e) => e.index)).toEqual([1]);
    await again.storage.close();
  });
});
