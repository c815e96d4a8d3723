import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { LogEntry } from "../../src/core/log-entry.js";
import type { PersistOp } from "../../src/core/protocol.js";
import { snapshotFileName, snapshotTempFileName } from "../../src/durable/file-names.js";
import { decodeSnapshotFile, encodeSnapshotFile } from "../../src/durable/snapshot-file.js";
import { StorageCorruptionError, StorageLockedError } from "../../src/storage/errors.js";
import { FileStorage } from "../../src/storage/file-storage.js";
import { writeSnapshotFile } from "../../src/storage/snapshot-writer.js";
import { expectedState, removeDir, rules, tempDir } from "./helpers.js";

const dirs: string[] = [];
function newDir(): string {
  const dir = tempDir();
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) removeDir(dir);
});

function entries(from: number, to: number, term: number): LogEntry[] {
  const out: LogEntry[] = [];
  for (let index = from; index <= to; index++) {
    out.push({ index, term, time: index, seed: index, payload: { type: "noop" } });
  }
  return out;
}

function snapshot(index: number, term: number, byte: number): PersistOp {
  return {
    type: "snapshot",
    meta: { index, protocol: { term }, config: { members: [0, 1, 2] } },
    data: new Uint8Array(64).fill(byte),
  };
}

/** One commit per persist, so that small segments rotate and compaction has work. */
async function writeAll(dir: string, persists: readonly PersistOp[][]): Promise<void> {
  const { storage } = await FileStorage.open(dir, rules, { segmentBytes: 256 });
  for (const [i, ops] of persists.entries()) {
    storage.append(i + 1, ops);
    await storage.flush();
  }
  await storage.close();
}

function corrupt(dir: string, file: string, at = 40): void {
  const bytes = fs.readFileSync(path.join(dir, file));
  bytes[at] = bytes[at]! ^ 0xff;
  fs.writeFileSync(path.join(dir, file), bytes);
}

/** A log with snapshots at 5 and 15 taken of entries it holds, and entries up to 25. */
const history: PersistOp[][] = [
  [{ type: "hardState", state: { term: 1 } }],
  [{ type: "append", entries: entries(1, 10, 1) }],
  [snapshot(5, 1, 5)],
  [{ type: "append", entries: entries(11, 20, 1) }],
  [snapshot(15, 1, 15)],
  [{ type: "append", entries: entries(21, 25, 1) }],
];

describe("recovery", () => {
  it("snapshot files: round trip, and every kind of damage is detected", () => {
    const meta = { index: 9, protocol: { term: 2 }, config: { members: [1, 2] } };
    const data = new Uint8Array([5, 6, 7]);
    const { head, trailer } = encodeSnapshotFile(meta, data);
    const bytes = Buffer.concat([head, data, trailer]);
    expect(decodeSnapshotFile(bytes)).toEqual({ meta, data });
    expect(() => decodeSnapshotFile(bytes.subarray(0, 10))).toThrow(
      /shorter than a snapshot header/,
    );
    expect(() => decodeSnapshotFile(bytes.subarray(0, bytes.length - 1))).toThrow(
      /header describes/,
    );
    for (let at = 0; at < bytes.length; at++) {
      const bad = Buffer.from(bytes);
      bad[at] = bad[at]! ^ 1;
      expect(() => decodeSnapshotFile(bad)).toThrow();
    }
  });

  it("a corrupt newest snapshot falls back to the previous one, and the log brings the state forward", async () => {
    const dir = newDir();
    await writeAll(dir, history);
    corrupt(dir, snapshotFileName(15));
    const { storage, state, report } = await FileStorage.open(dir, rules);
    expect(report.fallbacks).toEqual([{ file: snapshotFileName(15), reason: "checksum mismatch" }]);
    expect(report.snapshotUsed).toEqual({ file: snapshotFileName(5), index: 5 });
    const expected = expectedState(history);
    expect(state.hardState).toEqual(expected.hardState);
    expect(state.snapshot?.meta.index).toBe(5);
    expect(state.snapshot?.data).toEqual(new Uint8Array(64).fill(5));
    // Entries 6..15 are what snapshot 15 held; 16..25 are the same as without the damage.
    expect(state.entries).toEqual(entries(6, 25, 1));
    storage.append(1, [{ type: "append", entries: entries(26, 26, 1) }]);
    await storage.close();
    const again = await FileStorage.open(dir, rules);
    expect(again.state.entries.at(-1)?.index).toBe(26);
    await again.storage.close();
  });

  it("refuses when the unusable snapshot covered entries the log no longer holds", async () => {
    const dir = newDir();
    // A snapshot installed from a leader (index 50) while this log held only 1..10.
    const persists: PersistOp[][] = [
      [{ type: "append", entries: entries(1, 10, 1) }],
      [snapshot(5, 1, 5)],
      [snapshot(50, 3, 50)],
      [{ type: "append", entries: entries(51, 55, 3) }],
    ];
    await writeAll(dir, persists);
    const intact = await FileStorage.open(dir, rules);
    expect(intact.state).toEqual(expectedState(persists));
    await intact.storage.close();
    corrupt(dir, snapshotFileName(50));
    const error = await FileStorage.open(dir, rules).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageCorruptionError);
    expect((error as Error).message).toBe(
      `${snapshotFileName(50)}: unusable (checksum mismatch) and the log does not hold the entry 50 that it covers; ` +
        "refusing to start (the state it held is lost)",
    );
    // It refused before touching anything, and released the lock.
    expect(fs.existsSync(path.join(dir, "LOCK"))).toBe(false);
  });

  it("with every snapshot unusable but the whole log kept, recovers from the log alone", async () => {
    const dir = newDir();
    const { storage } = await FileStorage.open(dir, rules);
    for (const [i, ops] of history.entries()) storage.append(i + 1, ops);
    await storage.close();
    corrupt(dir, snapshotFileName(5));
    corrupt(dir, snapshotFileName(15));
    const { storage: again, state, report } = await FileStorage.open(dir, rules);
    expect(report.fallbacks.map((f) => f.file)).toEqual([
      snapshotFileName(15),
      snapshotFileName(5),
    ]);
    expect(state.snapshot).toBeUndefined();
    expect(state.entries).toEqual(entries(1, 25, 1));
    await again.close();
  });

  it("refuses when every snapshot is unusable and the log was compacted", async () => {
    const dir = newDir();
    const persists: PersistOp[][] = [...history];
    for (let i = 0; i < 20; i++) {
      const from = 26 + i * 5;
      persists.push([{ type: "append", entries: entries(from, from + 4, 1) }]);
      if (i % 5 === 4) persists.push([snapshot(from + 4, 1, i)]);
    }
    await writeAll(dir, persists);
    const snaps = fs.readdirSync(dir).filter((f) => f.endsWith(".snap"));
    expect(snaps.length).toBe(2);
    expect(fs.existsSync(path.join(dir, "wal-0000000001.log"))).toBe(false);
    for (const file of snaps) corrupt(dir, file);
    const error = await FileStorage.open(dir, rules).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageCorruptionError);
    expect((error as StorageCorruptionError).message).toMatch(
      /^wal-\d{10}\.log: the log starts at segment \d+ \(earlier segments were compacted\) but no usable snapshot covers them; refusing to start/,
    );
  });

  it("discards a snapshot file no durable record commits, and snapshot temp files", async () => {
    const dir = newDir();
    await writeAll(dir, history);
    // A crash after the snapshot file was renamed into place but before its WAL record was synced.
    await writeSnapshotFile(
      dir,
      { index: 22, protocol: { term: 1 }, config: null },
      new Uint8Array([1]),
    );
    fs.writeFileSync(path.join(dir, snapshotTempFileName(24)), "half a snapshot");
    const { storage, state, report } = await FileStorage.open(dir, rules);
    expect(state).toEqual(expectedState(history));
    expect([...report.discarded].sort()).toEqual(
      [snapshotFileName(22), snapshotTempFileName(24)].sort(),
    );
    expect(fs.existsSync(path.join(dir, snapshotFileName(22)))).toBe(false);
    expect(fs.existsSync(path.join(dir, snapshotTempFileName(24)))).toBe(false);
    await storage.close();
  });

  it("refuses snapshot files without any WAL", async () => {
    const dir = newDir();
    await writeSnapshotFile(
      dir,
      { index: 3, protocol: { term: 1 }, config: null },
      new Uint8Array([1]),
    );
    await expect(FileStorage.open(dir, rules)).rejects.toThrow(
      `${snapshotFileName(3)}: snapshot files exist but no WAL segment does; refusing to start (the log that commits them is missing)`,
    );
  });

  it("refuses a directory another live process has locked, and takes over a stale lock", async () => {
    const dir = newDir();
    const { storage } = await FileStorage.open(dir, rules);
    const error = await FileStorage.open(dir, rules).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageLockedError);
    expect((error as StorageLockedError).pid).toBe(process.pid);
    expect((error as Error).message).toBe(
      `${dir} is locked by running process ${process.pid} (its LOCK file); stop that process, or ` +
        `delete ${dir}/LOCK if you are sure no lockstep replica uses this directory`,
    );
    await storage.close();

    // A process that has exited left its LOCK behind.
    const child = spawnSync(process.execPath, ["-e", ""]);
    const deadPid = child.pid!;
    fs.writeFileSync(path.join(dir, "LOCK"), `${deadPid}\n`);
    const taken = await FileStorage.open(dir, rules);
    expect(taken.report.staleLockPid).toBe(deadPid);
    expect(fs.readFileSync(path.join(dir, "LOCK"), "utf8")).toBe(`${process.pid}\n`);
    await taken.storage.close();

    // An empty LOCK (its owner died before writing its pid) is stale too.
    fs.writeFileSync(path.join(dir, "LOCK"), "");
    const empty = await FileStorage.open(dir, rules);
    expect(empty.report.staleLockPid).toBe(0);
    await empty.storage.close();
  });

  it("a torn tail is reported, cut off on disk, and the log continues after it", async () => {
    const dir = newDir();
    const { storage } = await FileStorage.open(dir, rules);
    storage.append(1, [{ type: "append", entries: entries(1, 3, 1) }]);
    storage.append(2, [{ type: "append", entries: entries(4, 4, 1) }]);
    await storage.close();
    const file = path.join(dir, "wal-0000000001.log");
    const size = fs.statSync(file).size;
    fs.truncateSync(file, size - 3);
    const { storage: s2, state, report } = await FileStorage.open(dir, rules);
    expect(state.entries.map((e) => e.index)).toEqual([1, 2, 3]);
    expect(report.truncatedTail).toMatchObject({
      file: "wal-0000000001.log",
      reason: "record cut short",
    });
    const { offset, bytesDropped } = report.truncatedTail!;
    expect(offset + bytesDropped).toBe(size - 3);
    expect(fs.statSync(file).size).toBe(offset);
    s2.append(1, [{ type: "append", entries: entries(4, 5, 2) }]);
    await s2.close();
    const s3 = await FileStorage.open(dir, rules);
    expect(s3.state.entries.map((e) => [e.index, e.term])).toEqual([
      [1, 1],
      [2, 1],
      [3, 1],
      [4, 2],
      [5, 2],
    ]);
    await s3.storage.close();
  });

  it("a bad record before the end of the last segment refuses to start, naming file and offset", async () => {
    const dir = newDir();
    const { storage } = await FileStorage.open(dir, rules);
    for (let i = 1; i <= 5; i++) storage.append(i, [{ type: "append", entries: entries(i, i, 1) }]);
    await storage.close();
    const file = path.join(dir, "wal-0000000001.log");
    const bytes = fs.readFileSync(file);
    // Records: checkpoint, then five appends. Damage the payload of the third append.
    let offset = 0;
    for (let r = 0; r < 3; r++) offset += 8 + bytes.readUInt32LE(offset);
    bytes[offset + 12] = bytes[offset + 12]! ^ 1;
    fs.writeFileSync(file, bytes);
    await expect(FileStorage.open(dir, rules)).rejects.toThrow(
      `wal-0000000001.log at offset ${offset}: checksum mismatch (a valid record follows at offset ` +
        `${offset + 8 + bytes.readUInt32LE(offset)}); refusing to start (the log is corrupt before its end)`,
    );
  });
});
