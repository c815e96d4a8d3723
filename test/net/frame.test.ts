import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  encodeFrame,
  type Frame,
  FrameDecoder,
  FrameKind,
  minFrameBytes,
} from "../../src/net/frame.js";

const tagOf = (signed: Uint8Array) => {
  const tag = new Uint8Array(32);
  for (let i = 0; i < signed.length; i++) tag[i % 32] = (tag[i % 32]! + signed[i]!) & 0xff;
  return tag;
};

function concat(parts: readonly Uint8Array[]): Uint8Array {
  return Buffer.concat(parts.map((p) => Buffer.from(p)));
}

/** Cuts `bytes` at the given points (any order, duplicates allowed). */
function cut(bytes: Uint8Array, points: readonly number[]): Uint8Array[] {
  const sorted = [...new Set(points.map((p) => p % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let at = 0;
  for (const p of sorted) {
    chunks.push(bytes.subarray(at, p));
    at = p;
  }
  chunks.push(bytes.subarray(at));
  return chunks;
}

describe("frame format", () => {
  it("lays out length, kind, body and tag", () => {
    const frame = encodeFrame(FrameKind.data, Uint8Array.of(7, 8, 9), () =>
      new Uint8Array(32).fill(1),
    );
    expect(frame.length).toBe(4 + 1 + 3 + 32);
    expect(Buffer.from(frame).readUInt32BE(0)).toBe(frame.length - 4);
    expect(frame[4]).toBe(FrameKind.data);
    expect([...frame.subarray(5, 8)]).toEqual([7, 8, 9]);
    expect(frame.subarray(8).every((b) => b === 1)).toBe(true);
  });

  it("round-trips any frames through any chunking", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            kind: fc.constantFrom(
              FrameKind.hello,
              FrameKind.challenge,
              FrameKind.confirm,
              FrameKind.data,
            ),
            body: fc.uint8Array({ maxLength: 300 }),
          }),
          { maxLength: 20 },
        ),
        fc.array(fc.nat(), { maxLength: 40 }),
        (frames, points) => {
          const stream = concat(frames.map((f) => encodeFrame(f.kind, f.body, tagOf)));
          const decoder = new FrameDecoder(1024);
          const out: Frame[] = [];
          for (const chunk of cut(stream, points)) {
            for (const event of decoder.decode(chunk)) {
              if (event.type === "error") throw new Error(event.detail);
              out.push(event.frame);
            }
          }
          expect(decoder.end()).toBeUndefined();
          expect(decoder.buffered).toBe(0);
          expect(out.map((f) => f.kind)).toEqual(frames.map((f) => f.kind));
          out.forEach((f, i) => {
            expect(Buffer.from(f.body).equals(Buffer.from(frames[i]!.body))).toBe(true);
            expect(Buffer.from(f.tag).equals(Buffer.from(tagOf(f.signed)))).toBe(true);
          });
        },
      ),
      { numRuns: 500 },
    );
  });

  it("reads many frames from one chunk and one frame from byte-sized chunks", () => {
    const frames = Array.from({ length: 100 }, (_, i) =>
      encodeFrame(FrameKind.data, new Uint8Array(i).fill(i), tagOf),
    );
    const decoder = new FrameDecoder();
    expect(decoder.decode(concat(frames))).toHaveLength(100);
    const big = encodeFrame(FrameKind.data, new Uint8Array(5000).fill(3), tagOf);
    const events = [];
    for (let i = 0; i < big.length; i++) events.push(...decoder.decode(big.subarray(i, i + 1)));
    expect(events).toHaveLength(1);
  });

  it("refuses an oversized length from the header alone, without buffering the body", () => {
    const decoder = new FrameDecoder(1 << 20);
    const header = Uint8Array.of(0xff, 0xff, 0xff, 0xff, FrameKind.data);
    const events = decoder.decode(header);
    expect(events).toEqual([
      { type: "error", reason: "oversized", detail: expect.stringContaining("exceeds") },
    ]);
    expect(decoder.failed).toBe(true);
    expect(decoder.buffered).toBe(0);
    // Dead: nothing more comes out, nothing more is held.
    expect(decoder.decode(new Uint8Array(100))).toEqual([]);
    expect(decoder.buffered).toBe(0);
  });

  it("holds only the bytes received of a large frame, not its claimed size", () => {
    const decoder = new FrameDecoder(16 << 20);
    const header = Buffer.alloc(5);
    header.writeUInt32BE((16 << 20) - 4, 0);
    header[4] = FrameKind.data;
    expect(decoder.decode(header)).toEqual([]);
    expect(decoder.decode(new Uint8Array(10))).toEqual([]);
    expect(decoder.buffered).toBe(15);
    expect(decoder.end()?.reason).toBe("malformed");
  });

  it("refuses frames shorter than header + tag and unknown kinds", () => {
    const short = Buffer.alloc(minFrameBytes);
    short.writeUInt32BE(minFrameBytes - 5, 0);
    short[4] = FrameKind.data;
    expect(new FrameDecoder().decode(short)[0]).toMatchObject({
      type: "error",
      reason: "malformed",
    });

    const unknown = encodeFrame(FrameKind.data, new Uint8Array(0), tagOf);
    unknown[4] = 99;
    expect(new FrameDecoder().decode(unknown)[0]).toMatchObject({
      type: "error",
      reason: "malformed",
      detail: "unknown frame kind 99",
    });
  });

  it("applies a changed limit from the next frame on (pull one frame at a time)", () => {
    const small = encodeFrame(FrameKind.confirm, new Uint8Array(10), tagOf);
    const large = encodeFrame(FrameKind.data, new Uint8Array(2000), tagOf);
    const decoder = new FrameDecoder(1024);
    decoder.push(concat([small, large]));
    expect(decoder.next()?.type).toBe("frame");
    decoder.setMaxFrameBytes(4096);
    expect(decoder.next()?.type).toBe("frame");
    expect(decoder.next()).toBeUndefined();
  });
});

describe("frame decoder memory", () => {
  it("gathers a frame trickled byte by byte into few buffers", () => {
    const frame = encodeFrame(FrameKind.data, new Uint8Array(200_000).fill(9), tagOf);
    const decoder = new FrameDecoder();
    let maxChunks = 0;
    const events = [];
    for (let i = 0; i < frame.length; i++) {
      events.push(...decoder.decode(frame.subarray(i, i + 1)));
      maxChunks = Math.max(maxChunks, decoder.heldChunks);
    }
    expect(events).toHaveLength(1);
    expect(maxChunks).toBeLessThan(12);
    const got = events[0]!;
    if (got.type !== "frame") throw new Error("no frame");
    expect(got.frame.body.every((b) => b === 9)).toBe(true);
    expect(decoder.heldChunks).toBe(0);
  });
});
