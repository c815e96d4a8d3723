import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Backoff } from "../../src/net/backoff.js";
import { SendQueue } from "../../src/net/send-queue.js";

describe("SendQueue", () => {
  it("drops the oldest beyond the message limit and reports each drop", () => {
    const dropped: number[] = [];
    const q = new SendQueue({ maxMessages: 3, maxBytes: 1_000 }, (m) => dropped.push(m[0]!));
    for (let i = 0; i < 5; i++) q.push(Uint8Array.of(i));
    expect(dropped).toEqual([0, 1]);
    expect([q.shift()![0], q.shift()![0], q.shift()![0], q.shift()]).toEqual([2, 3, 4, undefined]);
  });

  it("drops messages older than maxAgeMs on push and on expire(), counting them apart", () => {
    let now = 0;
    const full: number[] = [];
    const stale: number[] = [];
    const q = new SendQueue(
      { maxMessages: 100, maxBytes: 1_000, maxAgeMs: 50 },
      (m) => full.push(m[0]!),
      (m) => stale.push(m[0]!),
      () => now,
    );
    q.push(Uint8Array.of(1));
    now = 30;
    q.push(Uint8Array.of(2));
    now = 51;
    expect(q.expire()).toBe(1);
    now = 100;
    q.push(Uint8Array.of(3));
    expect([stale, full, q.length, q.peek()![0]]).toEqual([[1, 2], [], 1, 3]);
  });

  it("drops the oldest beyond the byte limit, but takes a single oversized message alone", () => {
    let drops = 0;
    const q = new SendQueue({ maxMessages: 100, maxBytes: 10 }, () => drops++);
    q.push(new Uint8Array(4));
    q.push(new Uint8Array(4));
    q.push(new Uint8Array(4));
    expect([q.length, q.bytes, drops]).toEqual([2, 8, 1]);
    q.push(new Uint8Array(50));
    expect([q.length, q.bytes, drops]).toEqual([1, 50, 3]);
    expect(q.clear()).toBe(1);
    expect([q.length, q.bytes, drops]).toEqual([0, 0, 4]);
  });

  it("never exceeds its limits and keeps FIFO order of what it keeps (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.nat({ max: 40 }), fc.constant(-1)), { maxLength: 300 }),
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 100 }),
        (ops, maxMessages, maxBytes) => {
          let dropped = 0;
          const q = new SendQueue({ maxMessages, maxBytes }, () => dropped++);
          const model: number[] = [];
          let next = 0;
          let pushed = 0;
          let shifted = 0;
          for (const op of ops) {
            if (op < 0) {
              const m = q.shift();
              if (m) {
                shifted++;
                expect(new DataView(m.buffer).getUint32(0)).toBe(model.shift());
              }
              continue;
            }
            const m = new Uint8Array(4 + op);
            new DataView(m.buffer).setUint32(0, next);
            model.push(next++);
            pushed++;
            q.push(m);
            while (model.length > q.length) model.shift();
            expect(q.length).toBeLessThanOrEqual(maxMessages);
            if (q.length > 1) expect(q.bytes).toBeLessThanOrEqual(maxBytes);
          }
          expect(pushed).toBe(shifted + dropped + q.length);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("Backoff", () => {
  it("grows exponentially with equal jitter up to the cap, and resets", () => {
    const lows = new Backoff({ initialMs: 10, maxMs: 100, random: () => 0 });
    expect(Array.from({ length: 6 }, () => lows.next())).toEqual([5, 10, 20, 40, 50, 50]);
    const highs = new Backoff({ initialMs: 10, maxMs: 100, random: () => 0.999999 });
    const h = Array.from({ length: 6 }, () => highs.next());
    expect(h.every((d, i) => d <= [10, 20, 40, 80, 100, 100][i]!)).toBe(true);
    highs.reset();
    expect(highs.next()).toBeLessThanOrEqual(10);
    expect(() => new Backoff({ initialMs: 0 })).toThrow(RangeError);
  });
});
