import { describe, expect, it } from "vitest";
import { toHex } from "../../../src/core/crypto.js";
import { ByteWriter } from "../../../src/protocols/pbft/canonical.js";
import {
  batchBytes,
  checkpointBytes,
  commitBytes,
  fetchBytes,
  prePrepareBytes,
  prepareBytes,
  replyBytes,
  requestBytes,
  resultBytes,
  seedBytes,
} from "../../../src/protocols/pbft/signed-bytes.js";

const hex = (b: Uint8Array) => toHex(b);
/** "lockstep-pbft/1" in ASCII. */
const DOMAIN = "6c6f636b737465702d706266742f31";
const d11 = new Uint8Array(32).fill(0x11);
const u64 = (x: number) => x.toString(16).padStart(16, "0");
const u32 = (x: number) => x.toString(16).padStart(8, "0");

describe("canonical primitives", () => {
  it.each([
    ["u8 7", (w: ByteWriter) => w.u8(7), "07"],
    ["u32 258", (w: ByteWriter) => w.u32(258), "00000102"],
    ["u64 2^32+1", (w: ByteWriter) => w.u64(2 ** 32 + 1), "0000000100000001"],
    ["u64 max safe", (w: ByteWriter) => w.u64(Number.MAX_SAFE_INTEGER), "001fffffffffffff"],
    ["str é", (w: ByteWriter) => w.str("é"), "00000002c3a9"],
    ["bytes", (w: ByteWriter) => w.bytes(new Uint8Array([9, 8])), "000000020908"],
    ["null", (w: ByteWriter) => w.value(null), "00"],
    ["false/true", (w: ByteWriter) => w.value(false).value(true), "0102"],
    ["number 1", (w: ByteWriter) => w.value(1), "033ff0000000000000"],
    ["-0 as +0", (w: ByteWriter) => w.value(-0), "030000000000000000"],
    ["string '1'", (w: ByteWriter) => w.value("1"), "040000000131"],
    ["bytes value", (w: ByteWriter) => w.value(new Uint8Array([1])), "050000000101"],
    ["array", (w: ByteWriter) => w.value([null, true]), "06000000020002"],
    [
      "object",
      (w: ByteWriter) => w.value({ b: null, a: true }),
      "07000000020000000161020000000162" + "00",
    ],
  ])("%s", (_name, write, expected) => {
    expect(hex(write(new ByteWriter()).finish())).toBe(expected);
  });

  it("object encoding does not depend on key insertion order", () => {
    const a = new ByteWriter().value({ x: 1, y: [1, { p: "q", o: null }] }).finish();
    const b = new ByteWriter().value({ y: [1, { o: null, p: "q" }], x: 1 }).finish();
    expect(hex(a)).toBe(hex(b));
  });

  it("values of different types never share an encoding", () => {
    const encodings = [null, false, 0, "", new Uint8Array(0), [], {}, "0", [null]].map((v) =>
      hex(new ByteWriter().value(v).finish()),
    );
    expect(new Set(encodings).size).toBe(encodings.length);
  });

  it("refuses what it cannot encode exactly", () => {
    expect(() => new ByteWriter().u64(-1)).toThrow(RangeError);
    expect(() => new ByteWriter().u64(2 ** 53)).toThrow(RangeError);
    expect(() => new ByteWriter().u64(1.5)).toThrow(RangeError);
    expect(() => new ByteWriter().u32(2 ** 32)).toThrow(RangeError);
    expect(() => new ByteWriter().u8(256)).toThrow(RangeError);
    expect(() => new ByteWriter().value(Number.NaN)).toThrow(RangeError);
  });

  it("grows past its initial buffer", () => {
    const big = new Uint8Array(1000).fill(5);
    const out = new ByteWriter().u8(1).bytes(big).u8(2).finish();
    expect(out.length).toBe(1 + 4 + 1000 + 1);
    expect(out[out.length - 1]).toBe(2);
  });
});

describe("authenticated byte layouts", () => {
  it("the domain is the ASCII of lockstep-pbft/1", () => {
    expect(Buffer.from(DOMAIN, "hex").toString("ascii")).toBe("lockstep-pbft/1");
  });

  it.each([
    [
      "PREPARE",
      () => prepareBytes({ view: 1, seq: 2, digest: d11, replica: 3 }),
      `${DOMAIN}04${u64(1)}${u64(2)}${"11".repeat(32)}${u32(3)}`,
    ],
    [
      "COMMIT",
      () => commitBytes({ view: 1, seq: 2, digest: d11, replica: 3 }),
      `${DOMAIN}05${u64(1)}${u64(2)}${"11".repeat(32)}${u32(3)}`,
    ],
    [
      "PRE-PREPARE",
      () => prePrepareBytes({ view: 5, seq: 9, replica: 1 }, d11),
      `${DOMAIN}03${u64(5)}${u64(9)}${"11".repeat(32)}${u32(1)}`,
    ],
    [
      "batch",
      () => batchBytes({ time: 1000, requests: [d11] }),
      `${DOMAIN}02${u64(1000)}${u32(1)}${"11".repeat(32)}`,
    ],
    [
      "CHECKPOINT",
      () => checkpointBytes({ seq: 128, stateDigest: d11, replica: 2 }),
      `${DOMAIN}08${u64(128)}${"11".repeat(32)}${u32(2)}`,
    ],
    [
      "REQUEST",
      () => requestBytes({ client: "c", timestamp: 4, ackedBelow: 3, readOnly: true, op: null }),
      `${DOMAIN}01${u32(1)}63${u64(4)}${u64(3)}0100`,
    ],
    [
      "REPLY",
      () =>
        replyBytes({
          view: 2,
          timestamp: 4,
          client: "c",
          replica: 1,
          tentative: false,
          resultDigest: d11,
        }),
      `${DOMAIN}06${u64(2)}${u64(4)}${u32(1)}63${u32(1)}00${"11".repeat(32)}`,
    ],
    ["result", () => resultBytes("ok"), `${DOMAIN}07${"04"}${u32(2)}6f6b`],
    [
      "FETCH",
      () => fetchBytes({ replica: 1, seq: 64, stateDigest: d11, chunk: 3 }),
      `${DOMAIN}0b${u32(1)}${u64(64)}${"11".repeat(32)}${u64(3)}`,
    ],
    ["seed", () => seedBytes(7, d11), `${DOMAIN}0e${u64(7)}${"11".repeat(32)}`],
  ])("%s", (_name, bytes, expected) => {
    expect(hex(bytes())).toBe(expected);
  });

  it("PREPARE and COMMIT for the same slot differ (kind byte), as do different views and senders", () => {
    const base = { view: 1, seq: 2, digest: d11, replica: 3 };
    const all = [
      prepareBytes(base),
      commitBytes(base),
      prepareBytes({ ...base, view: 2 }),
      prepareBytes({ ...base, replica: 0 }),
      prepareBytes({ ...base, seq: 3 }),
    ].map(hex);
    expect(new Set(all).size).toBe(all.length);
  });

  it("refuses digests of the wrong size instead of hashing something ambiguous", () => {
    expect(() => prepareBytes({ view: 1, seq: 2, digest: new Uint8Array(31), replica: 3 })).toThrow(
      /digest of 31 bytes/,
    );
  });
});
