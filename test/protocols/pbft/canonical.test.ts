import { describe, expect, it } from "vitest";
import { ByteWriter } from "../../../src/protocols/pbft/canonical.js";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

describe("ByteWriter (PBFT's canonical bytes)", () => {
  it("writes a string as its UTF-8 length then bytes, for any code points", () => {
    for (const s of ["", "a", "é", "€uro", "😀", "x\u0000y", "\ud800"]) {
      const expected = Buffer.from(s, "utf8");
      const len = Buffer.alloc(4);
      len.writeUInt32BE(expected.length);
      expect(hex(new ByteWriter().str(s).finish())).toBe(hex(Buffer.concat([len, expected])));
    }
  });

  it("grows past its first buffer and keeps every byte", () => {
    const long = "ab€".repeat(500);
    const out = new ByteWriter().u8(9).str(long).u32(7).finish();
    expect(out[0]).toBe(9);
    expect(Buffer.from(out.subarray(5, out.length - 4)).toString("utf8")).toBe(long);
    expect(hex(out.subarray(out.length - 4))).toBe("00000007");
  });

  it("gives identical bytes whether writers interleave or run one after another", () => {
    const write = (w: ByteWriter, i: number) =>
      w
        .u64(i)
        .str(`k${i}`)
        .value({ b: [i, "x"], a: null });
    const alone = [1, 2, 3].map((i) => hex(write(new ByteWriter(), i).finish()));
    const a = write(new ByteWriter(), 1);
    const b = write(new ByteWriter(), 2);
    const aBytes = hex(a.finish());
    const c = write(new ByteWriter(), 3); // may reuse a's buffer
    expect([aBytes, hex(b.finish()), hex(c.finish())]).toEqual(alone);
    // A finished writer's result is its own copy: later writers do not change it.
    const first = new ByteWriter().u32(0xdeadbeef).finish();
    new ByteWriter().u32(0x01020304).finish();
    expect(hex(first)).toBe("deadbeef");
  });
});
