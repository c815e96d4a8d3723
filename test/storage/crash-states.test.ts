import * as fs from "node:fs";
import * as path from "node:path";
import { isDeepStrictEqual } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRandom } from "../../src/core/prng.js";
import type { DurableState, PersistOp } from "../../src/core/protocol.js";
import { segmentFileName } from "../../src/durable/file-names.js";
import { type RecoveryResult, recover } from "../../src/durable/recovery.js";
import { encodeWalRecord } from "../../src/durable/wal-record.js";
import { snapshotTerm } from "../../src/protocols/raft/snapshot-meta.js";
import { StorageCorruptionError } from "../../src/storage/errors.js";
import { FileStorage } from "../../src/storage/file-storage.js";
import {
  expectedState,
  memorySource,
  PersistGenerator,
  readDirectory,
  recordBounds,
  removeDir,
  rules,
  segmentNames,
  tempDir,
} from "./helpers.js";

/**
 * Crash states: the directory as a crash could leave it (the last segment cut at any byte, or
 * cut and zero-filled) and as bit rot could (one byte changed anywhere). Recovery must return
 * exactly the records written whole before the cut, and refuse, naming the file and offset,
 * when a record before the end is damaged. Most states run on byte arrays through the same
 * `recover` FileStorage.open uses; a sample runs through real files and FileStorage.open.
 */

interface Wal {
  readonly seed: number;
  readonly files: ReadonlyMap<string, Uint8Array>;
  /** Every persist made, in order. */
  readonly persists: readonly (readonly PersistOp[])[];
  readonly segments: readonly string[];
  readonly lastSegment: string;
  /** Record bounds in each segment. */
  readonly bounds: ReadonlyMap<string, readonly { start: number; end: number }[]>;
}

const seeds = [101, 202, 303, 404, 505, 606, 707, 808, 909, 1010, 1111, 1212];
const wals: Wal[] = [];
const counts = { cuts: 0, zeroFills: 0, flips: 0, snapshotFlips: 0, rotations: 0, realFiles: 0 };

/**
 * A WAL of several segments, compacted after snapshots, whose last segment ends with at least
 * six records (odd seeds: one of them commits a snapshot).
 */
async function buildWal(seed: number): Promise<Wal> {
  const dir = tempDir();
  try {
    const gen = new PersistGenerator(seed, { entries: 2, commands: 1, value: 12 });
    const first = await FileStorage.open(dir, rules, { segmentBytes: 500 });
    for (let id = 1; id <= 24; id++) {
      const snapshot = id % 8 === 0 && id < 24;
      first.storage.append(
        id,
        snapshot ? (gen.snapshot() ?? gen.next()) : gen.next({ snapshot: false }),
      );
      if (id % 2 === 0) await first.storage.flush();
    }
    await first.storage.close();
    // A large segment size: the tail records stay in the last segment.
    const second = await FileStorage.open(dir, rules, { segmentBytes: 1 << 20 });
    for (let id = 1; id <= 6; id++) {
      const ops = seed % 2 === 1 && id === 5 ? gen.snapshot() : undefined;
      second.storage.append(id, ops ?? gen.next({ snapshot: false }));
      if (id % 2 === 0) await second.storage.flush();
    }
    await second.storage.close();
    const files = readDirectory(dir);
    const segments = segmentNames(files);
    const bounds = new Map(segments.map((s) => [s, recordBounds(files.get(s)!)] as const));
    return {
      seed,
      files,
      persists: gen.persists,
      segments,
      lastSegment: segments.at(-1)!,
      bounds,
    };
  } finally {
    removeDir(dir);
  }
}

beforeAll(async () => {
  for (const seed of seeds) wals.push(await buildWal(seed));
});

afterAll(() => {
  console.info(
    `crash states: ${counts.cuts} cuts, ${counts.zeroFills} zero-filled tails, ${counts.flips} WAL byte flips, ` +
      `${counts.snapshotFlips} snapshot byte flips, ${counts.rotations} torn rotations, ` +
      `${counts.realFiles} through real files; total ` +
      `${Object.values(counts).reduce((a, b) => a + b, 0)}`,
  );
});

function withFile(wal: Wal, file: string, bytes: Uint8Array): Map<string, Uint8Array> {
  const files = new Map(wal.files);
  files.set(file, bytes);
  return files;
}

/** Persists whose records lie wholly before `cut` in the last segment. */
function persistsBefore(wal: Wal, cut: number): number {
  const bounds = wal.bounds.get(wal.lastSegment)!;
  const whole = bounds.filter((b) => b.end <= cut).length;
  // The last segment starts with a checkpoint record; every other record is one persist.
  return wal.persists.length - (bounds.length - 1) + Math.max(0, whole - 1);
}

function expectedFor(wal: Wal, count: number, cache: Map<number, DurableState>): DurableState {
  let state = cache.get(count);
  if (!state) {
    state = expectedState(wal.persists.slice(0, count));
    cache.set(count, state);
  }
  return state;
}

/** The first offset the crash states cut at: the start of the `records`-th record from the end. */
function tailStart(wal: Wal, records: number): number {
  const bounds = wal.bounds.get(wal.lastSegment)!;
  return bounds[Math.max(0, bounds.length - records)]!.start;
}

async function recoverOrError(
  files: ReadonlyMap<string, Uint8Array>,
): Promise<RecoveryResult | StorageCorruptionError> {
  try {
    return await recover(memorySource(files), rules);
  } catch (error) {
    if (error instanceof StorageCorruptionError) return error;
    throw error;
  }
}

describe("crash states", () => {
  it("builds WALs with several segments, compaction and ≥ 6 records in the last segment", () => {
    for (const wal of wals) {
      expect(wal.segments.length).toBeGreaterThanOrEqual(3);
      expect(wal.bounds.get(wal.lastSegment)!.length).toBeGreaterThanOrEqual(7);
    }
    const compacted = wals.filter((w) => w.segments[0] !== segmentFileName(1));
    expect(compacted.length).toBeGreaterThanOrEqual(wals.length / 2);
  });

  it("a cut at every byte of the last records recovers exactly the whole records before it", async () => {
    for (const wal of wals) {
      const last = wal.files.get(wal.lastSegment)!;
      const bounds = wal.bounds.get(wal.lastSegment)!;
      const cache = new Map<number, DurableState>();
      for (let cut = tailStart(wal, 5); cut <= last.length; cut++) {
        const result = await recoverOrError(withFile(wal, wal.lastSegment, last.subarray(0, cut)));
        counts.cuts++;
        if (result instanceof Error)
          throw new Error(`seed ${wal.seed} cut ${cut}: ${result.message}`);
        const expected = expectedFor(wal, persistsBefore(wal, cut), cache);
        if (!isDeepStrictEqual(result.state, expected)) {
          expect(result.state, `seed ${wal.seed} cut ${cut}`).toEqual(expected);
        }
        const torn = bounds.find((b) => b.start < cut && cut < b.end);
        const tail = torn && {
          file: wal.lastSegment,
          offset: torn.start,
          bytesDropped: cut - torn.start,
          reason: result.report.truncatedTail?.reason,
        };
        if (!isDeepStrictEqual(result.report.truncatedTail, tail)) {
          expect(result.report.truncatedTail, `seed ${wal.seed} cut ${cut}`).toEqual(tail);
        }
      }
    }
    expect(counts.cuts).toBeGreaterThan(8_000);
  });

  it("a cut followed by zeros (a file extended but not written) recovers the same", async () => {
    const random = createRandom(9);
    for (const wal of wals) {
      const last = wal.files.get(wal.lastSegment)!;
      const cache = new Map<number, DurableState>();
      for (let cut = tailStart(wal, 5); cut < last.length; cut++) {
        const bytes = new Uint8Array(last.length + random.int(64));
        bytes.set(last.subarray(0, cut));
        const result = await recoverOrError(withFile(wal, wal.lastSegment, bytes));
        counts.zeroFills++;
        if (result instanceof Error)
          throw new Error(`seed ${wal.seed} cut ${cut}: ${result.message}`);
        const expected = expectedFor(wal, persistsBefore(wal, cut), cache);
        if (!isDeepStrictEqual(result.state, expected)) {
          expect(result.state, `seed ${wal.seed} zero-filled from ${cut}`).toEqual(expected);
        }
        const tail = result.report.truncatedTail;
        if (tail?.bytesDropped !== bytes.length - (tail?.offset ?? 0)) {
          expect(tail, `seed ${wal.seed} zero-filled from ${cut}`).toMatchObject({
            bytesDropped: bytes.length - (tail?.offset ?? 0),
          });
        }
      }
    }
    expect(counts.zeroFills).toBeGreaterThan(8_000);
  });

  it("a byte changed in any record before the last refuses with the file and the record's offset", async () => {
    const random = createRandom(10);
    for (const wal of wals) {
      const total = wal.segments.reduce((n, s) => n + wal.files.get(s)!.length, 0);
      const full = expectedState(wal.persists);
      const allButLast = expectedState(wal.persists.slice(0, -1));
      for (let sample = 0; sample < 400; sample++) {
        // A position uniformly over all segments' bytes.
        let at = random.int(total);
        let file = wal.segments[0]!;
        for (const s of wal.segments) {
          file = s;
          if (at < wal.files.get(s)!.length) break;
          at -= wal.files.get(s)!.length;
        }
        const bytes = new Uint8Array(wal.files.get(file)!);
        bytes[at] = bytes[at]! ^ (1 + random.int(255));
        const result = await recoverOrError(withFile(wal, file, bytes));
        counts.flips++;
        const bounds = wal.bounds.get(file)!;
        const record = bounds.find((b) => b.start <= at && at < b.end)!;
        const isFinal = file === wal.lastSegment && record === bounds.at(-1);
        if (result instanceof StorageCorruptionError) {
          expect(result.file, `seed ${wal.seed} ${file}@${at}`).toBe(file);
          expect(result.offset, `seed ${wal.seed} ${file}@${at}`).toBe(record.start);
          expect(result.message).toContain(`${file} at offset ${record.start}: `);
          expect(result.message).toContain("refusing to start (the log is corrupt before its end)");
        } else {
          // Only damage to the final record may be read as a torn tail; then it is dropped whole.
          expect(isFinal, `seed ${wal.seed} ${file}@${at} was accepted`).toBe(true);
          expect(result.state).toEqual(allButLast);
          expect(result.state).not.toEqual(full);
        }
      }
    }
    expect(counts.flips).toBeGreaterThanOrEqual(2000);
  });

  it("every byte of the last three records, changed, is either a torn tail or refused at its record", async () => {
    for (const wal of wals.slice(0, 2)) {
      const last = wal.files.get(wal.lastSegment)!;
      const bounds = wal.bounds.get(wal.lastSegment)!;
      const before = persistsBefore(wal, bounds.at(-1)!.start);
      const allButLast = expectedState(wal.persists.slice(0, before));
      for (let at = bounds.at(-3)!.start; at < last.length; at++) {
        const bytes = new Uint8Array(last);
        bytes[at] = bytes[at]! ^ 0x5a;
        const result = await recoverOrError(withFile(wal, wal.lastSegment, bytes));
        counts.flips++;
        const record = bounds.find((b) => b.start <= at && at < b.end)!;
        if (result instanceof StorageCorruptionError) {
          expect([result.file, result.offset]).toEqual([wal.lastSegment, record.start]);
        } else {
          expect(record).toBe(bounds.at(-1));
          expect(result.state).toEqual(allButLast);
        }
      }
    }
  });

  it("a byte changed in a snapshot file falls back to the previous snapshot or refuses, never altering the state", async () => {
    const random = createRandom(11);
    for (const wal of wals) {
      const expected = expectedState(wal.persists);
      const snapshots = [...wal.files.keys()].filter((f) => f.endsWith(".snap")).sort();
      expect(snapshots.length).toBe(2);
      const newest = snapshots.at(-1)!;
      for (let sample = 0; sample < 60; sample++) {
        const file = snapshots[random.int(2)]!;
        const bytes = new Uint8Array(wal.files.get(file)!);
        const at = random.int(bytes.length);
        bytes[at] = bytes[at]! ^ (1 + random.int(255));
        const result = await recoverOrError(withFile(wal, file, bytes));
        counts.snapshotFlips++;
        if (result instanceof StorageCorruptionError) {
          expect(result.file).toBe(newest);
          continue;
        }
        if (file !== newest) {
          expect(result.state).toEqual(expected);
          continue;
        }
        // Fell back: an older snapshot plus the log entries that lead to the newer one.
        expect(result.report.fallbacks.map((f) => f.file)).toEqual([newest]);
        expect(result.state.hardState).toEqual(expected.hardState);
        expect(result.state.snapshot!.meta.index).toBeLessThan(expected.snapshot!.meta.index);
        const tail = result.state.entries.slice(
          result.state.entries.length - expected.entries.length,
        );
        expect(tail).toEqual(expected.entries);
        const covered = result.state.entries.find((e) => e.index === expected.snapshot!.meta.index);
        expect(covered?.term).toBe(snapshotTerm(expected.snapshot!.meta));
      }
    }
  });

  it("a crash while starting a new segment (its checkpoint torn anywhere) loses nothing", async () => {
    for (const wal of wals) {
      const seq = Number(wal.lastSegment.slice(4, 14)) + 1;
      const result = await recover(memorySource(wal.files), rules);
      const hardState = result.state.hardState;
      const checkpoint = encodeWalRecord(
        result.nextSequence,
        hardState === undefined ? [] : [{ type: "hardState", state: hardState }],
      );
      const expected = expectedState(wal.persists);
      for (let cut = 0; cut <= checkpoint.length; cut++) {
        const files = withFile(wal, segmentFileName(seq), checkpoint.subarray(0, cut));
        const recovered = await recoverOrError(files);
        counts.rotations++;
        if (recovered instanceof Error) throw recovered;
        expect(recovered.state).toEqual(expected);
        expect(recovered.report.truncatedTail !== undefined).toBe(
          cut > 0 && cut < checkpoint.length,
        );
      }
    }
  });

  it("through real files: FileStorage.open cuts the torn tail, continues after it, and reopens", async () => {
    const wal = wals[1]!;
    const last = wal.files.get(wal.lastSegment)!;
    const random = createRandom(12);
    for (let n = 0; n < 40; n++) {
      const cut = tailStart(wal, 6) + random.int(last.length - tailStart(wal, 6) + 1);
      const zeros = n % 2 === 1;
      const dir = tempDir();
      try {
        for (const [name, bytes] of wal.files) fs.writeFileSync(path.join(dir, name), bytes);
        const torn = new Uint8Array(zeros ? last.length + 17 : cut);
        torn.set(last.subarray(0, cut));
        fs.writeFileSync(path.join(dir, wal.lastSegment), torn);

        const count = persistsBefore(wal, cut);
        const { storage, state, report } = await FileStorage.open(dir, rules);
        counts.realFiles++;
        expect(state).toEqual(expectedState(wal.persists.slice(0, count)));
        const validLength = report.truncatedTail?.offset ?? torn.length;
        expect(fs.statSync(path.join(dir, wal.lastSegment)).size).toBe(validLength);

        const extra: PersistOp[] = [{ type: "hardState", state: { term: 99, vote: n } }];
        storage.append(1, extra);
        await storage.close();
        const again = await FileStorage.open(dir, rules);
        expect(again.report.truncatedTail).toBeUndefined();
        expect(again.state).toEqual(expectedState([...wal.persists.slice(0, count), extra]));
        await again.storage.close();
      } finally {
        removeDir(dir);
      }
    }
  });

  it("refuses a missing segment, an undecodable record and an op that does not apply", async () => {
    const wal = wals[0]!;
    const middle = wal.segments[1]!;
    const missing = new Map(wal.files);
    missing.delete(middle);
    const gap = await recoverOrError(missing);
    expect(gap).toBeInstanceOf(StorageCorruptionError);
    expect((gap as Error).message).toBe(
      `${middle}: missing (the WAL jumps from ${wal.segments[0]} to ${wal.segments[2]}); ` +
        "refusing to start (a segment in the middle of the log is gone)",
    );

    // A well-framed record that is not a WAL record, in the middle of the first segment.
    const first = wal.files.get(wal.segments[0]!)!;
    const bounds = wal.bounds.get(wal.segments[0]!)!;
    const victim = bounds[1]!;
    const replace = (frame: Uint8Array): Map<string, Uint8Array> => {
      const bytes = new Uint8Array(first.length - (victim.end - victim.start) + frame.length);
      bytes.set(first.subarray(0, victim.start));
      bytes.set(frame, victim.start);
      bytes.set(first.subarray(victim.end), victim.start + frame.length);
      return withFile(wal, wal.segments[0]!, bytes);
    };
    const { frameRecord } = await import("../../src/platform/record-framing.js");
    const { encode } = await import("../../src/platform/codec.js");
    const notARecord = await recoverOrError(replace(frameRecord(encode({ hello: "world" }))));
    expect((notARecord as Error).message).toMatch(
      new RegExp(`^${wal.segments[0]} at offset ${victim.start}: record does not decode: `),
    );
    // Keep the sequence number right, but append with a gap.
    const original = await recover(memorySource(wal.files), rules);
    expect(original.segments[0]!.firstSequence).toBeDefined();
    const sequence = original.segments[0]!.firstSequence! + 1;
    const gapOp = encodeWalRecord(sequence, [
      {
        type: "append",
        entries: [{ index: 100_000, term: 1, time: 0, seed: 0, payload: { type: "noop" } }],
      },
    ]);
    const badOp = await recoverOrError(replace(gapOp));
    expect(badOp).toBeInstanceOf(StorageCorruptionError);
    expect((badOp as Error).message).toMatch(
      new RegExp(
        `^${wal.segments[0]} at offset ${victim.start}: op 0 \\(append\\) cannot be applied: `,
      ),
    );
    // A record out of sequence.
    const outOfSequence = await recoverOrError(replace(encodeWalRecord(sequence + 5, [])));
    expect((outOfSequence as Error).message).toContain(
      `record sequence number ${sequence + 5}, expected ${sequence}`,
    );
  });
});
