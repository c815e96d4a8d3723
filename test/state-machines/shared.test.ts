import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createRandom } from "../../src/core/prng.js";
import type { Value } from "../../src/core/value.js";
import { encodeCanonical } from "../../src/platform/codec.js";
import { crc32 } from "../../src/state-machines/shared/crc32.js";
import {
  openSnapshot,
  SnapshotError,
  sealSnapshot,
} from "../../src/state-machines/shared/snapshot.js";
import { utf8Length } from "../../src/state-machines/shared/utf8.js";
import { valueEquals } from "../../src/state-machines/shared/values.js";
import { pickWeighted } from "../../src/state-machines/shared/workload.js";

describe("crc32", () => {
  it("matches the standard check value", () => {
    expect(crc32(new TextEncoder().encode("123456789"))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array())).toBe(0);
  });
});

describe("utf8Length", () => {
  it("agrees with TextEncoder on any string", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (s) => {
        expect(utf8Length(s)).toBe(new TextEncoder().encode(s).length);
      }),
    );
    expect(utf8Length("\ud800x\udc00")).toBe(7);
  });
});

describe("valueEquals", () => {
  it("compares structurally, ignoring key order", () => {
    expect(valueEquals({ a: 1, b: [null, "x"] }, { b: [null, "x"], a: 1 })).toBe(true);
    expect(valueEquals({ a: 1 }, { a: 1, b: null })).toBe(false);
    expect(valueEquals({ a: null }, { b: null })).toBe(false);
    expect(valueEquals([1], { 0: 1 })).toBe(false);
    expect(valueEquals(new Uint8Array([1, 2]), new Uint8Array([1, 2]))).toBe(true);
    expect(valueEquals(new Uint8Array([1, 2]), [1, 2])).toBe(false);
    expect(valueEquals(null, undefined)).toBe(false);
    expect(valueEquals(1, "1")).toBe(false);
  });
});

describe("snapshot envelope", () => {
  it("round-trips and checks service and version", () => {
    const state: Value = { x: [1, "two", null] };
    const bytes = sealSnapshot("svc", 1, state);
    expect(openSnapshot("svc", 1, bytes)).toEqual(state);
    expect(() => openSnapshot("other", 1, bytes)).toThrow(/belongs to service "svc"/);
    expect(() => openSnapshot("svc", 2, bytes)).toThrow(/unsupported version 1/);
  });

  it("rejects bytes that pass the checksum but are not an envelope", () => {
    const withCrc = (body: Uint8Array) => {
      const out = new Uint8Array(body.length + 4);
      out.set(body);
      new DataView(out.buffer).setUint32(body.length, crc32(body));
      return out;
    };
    expect(() => openSnapshot("svc", 1, withCrc(new Uint8Array([0xc1])))).toThrow(SnapshotError);
    expect(() => openSnapshot("svc", 1, withCrc(encodeCanonical([1, 2])))).toThrow(
      /not an envelope/,
    );
    const extra = encodeCanonical({ service: "svc", version: 1, state: 1, more: 2 });
    expect(() => openSnapshot("svc", 1, withCrc(extra))).toThrow(/exactly/);
    let deep: Value = 1;
    for (let i = 0; i < 20; i++) deep = [deep];
    const nested = encodeCanonical({ service: "svc", version: 1, state: deep });
    expect(() => openSnapshot("svc", 1, withCrc(nested))).toThrow(/depth/);
  });
});

describe("pickWeighted", () => {
  it("follows the weights and skips zero weights", () => {
    const random = createRandom(3);
    const counts = { a: 0, b: 0, c: 0 };
    for (let i = 0; i < 10_000; i++) {
      counts[
        pickWeighted(random, [
          ["a", 1],
          ["b", 0],
          ["c", 3],
        ] as const)
      ]++;
    }
    expect(counts.b).toBe(0);
    expect(counts.a / 10_000).toBeCloseTo(0.25, 1);
  });
});
