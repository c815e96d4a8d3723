import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { toHex } from "../../src/core/crypto.js";
import {
  frameRecord,
  maxRecordBytes,
  readRecords,
  recordHeaderBytes,
} from "../../src/platform/record-framing.js";

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const hex = (records: readonly Uint8Array[]) => records.map(toHex);

const payloads: Uint8Array[] = [
  new TextEncoder().encode("hello"),
  new Uint8Array([0]),
  new Uint8Array(300).map((_, i) => (i * 31) & 0xff),
  new TextEncoder().encode("a somewhat longer record, with text"),
  new Uint8Array([0xff, 0xfe, 0xfd]),
];
const framed = payloads.map(frameRecord);
const disk = concat(framed);
/** Offsets at which each record ends. */
const ends: number[] = [];
for (const f of framed) ends.push((ends.at(-1) ?? 0) + f.length);

describe("frameRecord / readRecords", () => {
  it("frames as [length u32 LE][crc32 u32 LE][payload]", () => {
    const f = frameRecord(new TextEncoder().encode("abc"));
    expect(f.length).toBe(recordHeaderBytes + 3);
    expect(Array.from(f.subarray(0, 4))).toEqual([3, 0, 0, 0]);
    // crc32("abc") = 0x352441c2
    expect(Array.from(f.subarray(4, 8))).toEqual([0xc2, 0x41, 0x24, 0x35]);
    expect(new TextDecoder().decode(f.subarray(8))).toBe("abc");
  });

  it("round-trips a sequence of records", () => {
    const r = readRecords(disk);
    expect(hex(r.records)).toEqual(hex(payloads));
    expect(r.validLength).toBe(disk.length);
    expect(r.stop).toBeUndefined();
    expect(readRecords(new Uint8Array(0))).toEqual({ records: [], validLength: 0 });
  });

  it("round-trips arbitrary payloads (property), also from a subarray view", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 6 }), (ps) => {
        const bytes = concat([new Uint8Array([9, 9, 9]), ...ps.map(frameRecord)]);
        const r = readRecords(bytes.subarray(3));
        expect(hex(r.records)).toEqual(hex(ps));
        expect(r.validLength).toBe(bytes.length - 3);
      }),
    );
  });

  it("a cut at every byte offset returns exactly the whole records before it", () => {
    const failures: string[] = [];
    for (let cut = 0; cut <= disk.length; cut++) {
      const r = readRecords(disk.subarray(0, cut));
      const whole = ends.filter((e) => e <= cut).length;
      const boundary = whole === 0 ? 0 : ends[whole - 1]!;
      const stop =
        cut === boundary
          ? undefined
          : {
              offset: boundary,
              reason: cut - boundary < recordHeaderBytes ? "short-header" : "short-payload",
            };
      if (
        hex(r.records).join("|") !== hex(payloads.slice(0, whole)).join("|") ||
        r.validLength !== boundary ||
        JSON.stringify(r.stop) !== JSON.stringify(stop)
      ) {
        failures.push(`cut ${cut}: ${r.records.length} records, validLength ${r.validLength}`);
      }
    }
    expect(failures).toEqual([]);
    // and the cut at every offset was really exercised, including mid-header and mid-payload
    expect(readRecords(disk.subarray(0, 3)).stop?.reason).toBe("short-header");
    expect(readRecords(disk.subarray(0, ends[1]! + 9)).stop).toEqual({
      offset: ends[1],
      reason: "short-payload",
    });
  });

  it("a flipped byte anywhere drops that record and everything after it", () => {
    const expected = hex(payloads);
    const failures: string[] = [];
    let start = 0;
    for (let rec = 0; rec < framed.length; rec++) {
      for (let at = start; at < ends[rec]!; at++) {
        for (const xor of [0x01, 0x80, 0xff]) {
          const bad = Uint8Array.from(disk);
          bad[at] = bad[at]! ^ xor;
          const r = readRecords(bad);
          const got = hex(r.records).join("|");
          if (
            got !== expected.slice(0, rec).join("|") ||
            r.validLength !== start ||
            r.stop?.offset !== start ||
            !["checksum", "short-payload", "too-large"].includes(r.stop.reason)
          ) {
            failures.push(`record ${rec}, byte ${at} ^ ${xor}: ${JSON.stringify(r.stop)}`);
          }
        }
      }
      start = ends[rec]!;
    }
    expect(failures).toEqual([]);
  });

  it("classifies the corruption: payload or crc → checksum; huge length → too-large", () => {
    const one = frameRecord(new Uint8Array([1, 2, 3, 4]));
    const payloadFlip = Uint8Array.from(one);
    payloadFlip[9] = payloadFlip[9]! ^ 1;
    expect(readRecords(payloadFlip).stop).toEqual({ offset: 0, reason: "checksum" });
    const crcFlip = Uint8Array.from(one);
    crcFlip[5] = crcFlip[5]! ^ 1;
    expect(readRecords(crcFlip).stop).toEqual({ offset: 0, reason: "checksum" });
    const huge = Uint8Array.from(one);
    huge[3] = 0xff; // length ≥ 2^24 * 255 > maxRecordBytes
    expect(readRecords(huge).stop).toEqual({ offset: 0, reason: "too-large" });
    const longer = Uint8Array.from(one);
    longer[0] = 5;
    expect(readRecords(longer).stop).toEqual({ offset: 0, reason: "short-payload" });
  });

  it("never returns a record that was not written whole (random cuts and corruption)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 30 }), { minLength: 1, maxLength: 5 }),
        fc.nat(),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (ps, cutSeed, atSeed, xor) => {
          const bytes = concat(ps.map(frameRecord));
          const cut = cutSeed % (bytes.length + 1);
          const bad = Uint8Array.from(bytes.subarray(0, cut));
          if (bad.length > 0) bad[atSeed % bad.length] = bad[atSeed % bad.length]! ^ xor;
          const r = readRecords(bad);
          // a prefix of what was written, each record intact
          expect(hex(r.records)).toEqual(hex(ps.slice(0, r.records.length)));
          const covered = r.records.reduce((n, p) => n + recordHeaderBytes + p.length, 0);
          expect(r.validLength).toBe(covered);
          expect(r.validLength).toBeLessThanOrEqual(bad.length);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("refuses to frame an oversized record", () => {
    const fake = { length: maxRecordBytes + 1 } as Uint8Array;
    expect(() => frameRecord(fake)).toThrow(RangeError);
  });
});
