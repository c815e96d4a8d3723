import * as fs from "node:fs";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { limits } from "../../src/core/limits.js";
import type { LogEntry } from "../../src/core/log-entry.js";
import { noLogRules, type PersistOp } from "../../src/core/protocol.js";
import { segmentFileName } from "../../src/durable/file-names.js";
import { encode } from "../../src/platform/codec.js";
import { frameRecord } from "../../src/platform/record-framing.js";
import { StorageCorruptionError } from "../../src/storage/errors.js";
import { FileStorage } from "../../src/storage/file-storage.js";
import { removeDir, rules, tempDir } from "./helpers.js";

const dirs: string[] = [];
function newDir(): string {
  const dir = tempDir();
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) removeDir(dir);
});

const entry = (index: number): LogEntry => ({
  index,
  term: 1,
  time: index,
  seed: 0,
  payload: { type: "noop" },
});

describe("FileStorage stores protocol-defined records", () => {
  it("put and delete come back after a restart, alongside the log", async () => {
    const dir = newDir();
    const { storage } = await FileStorage.open(dir, rules);
    storage.append(1, [
      { type: "put", key: "view", value: 4 },
      { type: "put", key: "prepared/7", value: { digest: "d7" } },
      { type: "append", entries: [entry(1)] },
    ]);
    storage.append(2, [
      { type: "put", key: "prepared/8", value: { digest: "d8" } },
      { type: "delete", key: "prepared/7" },
      { type: "put", key: "view", value: 5 },
    ]);
    await storage.close();
    const { storage: again, state } = await FileStorage.open(dir, rules);
    expect([...state.records]).toEqual([
      ["prepared/8", { digest: "d8" }],
      ["view", 5],
    ]);
    expect(state.entries.map((e) => e.index)).toEqual([1]);
    await again.close();
  });

  it("keeps every live record when the segments that wrote them are compacted away", async () => {
    const dir = newDir();
    const { storage } = await FileStorage.open(dir, noLogRules, { segmentBytes: 512 });
    storage.append(1, [{ type: "put", key: "epoch", value: 3 }]);
    let index = 0;
    for (let id = 2; id <= 150; id++) {
      // A PBFT-like slot per sequence number, with gaps, garbage collected behind a checkpoint.
      index += 2;
      const ops: PersistOp[] = [
        { type: "put", key: `slot/${index}`, value: index },
        { type: "append", entries: [entry(index)] },
      ];
      if (id % 40 === 0) {
        ops.push({ type: "snapshot", meta: { index, config: null }, data: new Uint8Array([id]) });
        for (let old = index - 78; old <= index; old += 2)
          ops.push({ type: "delete", key: `slot/${old}` });
      }
      storage.append(id, ops);
      await storage.flush();
    }
    await storage.close();
    expect(fs.readdirSync(dir)).not.toContain(segmentFileName(1));
    const { storage: again, state } = await FileStorage.open(dir, noLogRules);
    const expected = new Map<string, number>([["epoch", 3]]);
    // Slots up to the last checkpoint (238, at id 120) were deleted; 240..298 are live.
    for (let i = 240; i <= 298; i += 2) expected.set(`slot/${i}`, i);
    expect(new Map(state.records)).toEqual(expected);
    expect(state.snapshot?.meta.index).toBe(238);
    await again.close();
  });
});

describe("the WAL format is versioned", () => {
  it("refuses a directory written in the old format 1, saying so, instead of misreading it", async () => {
    const dir = newDir();
    // A format-1 record: [sequence, ops] with a snapshot meta that had a mandatory term.
    const old = frameRecord(encode([1, [{ type: "hardState", state: { term: 3, vote: 1 } }]]));
    fs.writeFileSync(path.join(dir, segmentFileName(1)), old);
    const error = await FileStorage.open(dir, rules).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageCorruptionError);
    expect((error as Error).message).toMatch(
      /written in WAL format 1, but this lockstep reads format 2 only .*older lockstep.*empty data directory/,
    );
  });

  it("names a newer format too", async () => {
    const dir = newDir();
    fs.writeFileSync(path.join(dir, segmentFileName(1)), frameRecord(encode([3, 1, []])));
    await expect(FileStorage.open(dir, rules)).rejects.toThrow(/WAL format 3.*newer lockstep/);
  });
});

describe("FileStorage's queue is bounded", () => {
  it("fails stop once more persists wait than the limit allows, rather than grow without end", async () => {
    const dir = newDir();
    const { storage } = await FileStorage.open(dir, rules);
    const failures: Error[] = [];
    storage.onError((e) => failures.push(e));
    // The first append starts a commit on a microtask; everything appended in this same turn
    // queues behind it.
    let id = 0;
    for (let i = 0; i < limits.storageQueuedPersists; i++)
      storage.append(++id, [{ type: "hardState", state: i }]);
    expect(() => storage.append(++id, [{ type: "hardState", state: -1 }])).toThrow(
      /write queue full/,
    );
    expect(failures[0]?.message).toMatch(/write queue full/);
    await expect(storage.flush()).rejects.toThrow(/storage failed/);
    await storage.close().catch(() => {});
  });
});
