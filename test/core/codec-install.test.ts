import { describe, expect, it } from "vitest";
// Only core: nothing here loads src/platform, so no MessagePack or CRC-32 implementation is installed.
import { decode, encode } from "../../src/core/codec.js";
import { frameRecord } from "../../src/core/record-framing.js";

describe("core without a platform", () => {
  it("names the missing MessagePack implementation instead of encoding", () => {
    expect(() => encode(1)).toThrow(/no MessagePack implementation installed/);
    expect(() => decode(new Uint8Array([1]))).toThrow(/no MessagePack implementation installed/);
  });

  it("names the missing CRC-32 implementation instead of framing", () => {
    expect(() => frameRecord(new Uint8Array(3))).toThrow(/no CRC-32 implementation installed/);
  });
});
