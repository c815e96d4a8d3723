import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { int, object, type Schema, str, tagged } from "../../src/core/schema.js";
import type { Value } from "../../src/core/value.js";
import { DecodeError, decode, encode, encodeCanonical } from "../../src/platform/codec.js";

/** Decoded bytes come back as Buffers; compare contents, not classes. */
function normalize(v: unknown): unknown {
  if (v instanceof Uint8Array) return { bytes: Array.from(v) };
  if (Array.isArray(v)) return v.map(normalize);
  if (v !== null && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = normalize(x);
    return { object: out };
  }
  return v;
}

const key = fc.string({ maxLength: 6 }).filter((k) => k !== "__proto__");

const scalar: fc.Arbitrary<Value> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.maxSafeInteger(),
  fc.integer({ min: -(2 ** 31), max: 2 ** 32 }),
  // -0 travels as the integer 0 (MessagePack has no negative integer zero), so leave it out.
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => (Object.is(x, -0) ? 0 : x)),
  fc.string({ unit: "grapheme", maxLength: 12 }),
  fc.uint8Array({ maxLength: 16 }),
);

const { tree: valueArb } = fc.letrec<{ tree: Value }>((tie) => ({
  tree: fc.oneof(
    { maxDepth: 4, depthIdentifier: "value" },
    scalar,
    fc.array(tie("tree"), { maxLength: 4 }),
    fc.dictionary(key, tie("tree"), { maxKeys: 4, noNullPrototype: true }),
  ),
}));

describe("encode/decode", () => {
  it("round-trips arbitrary Values", () => {
    fc.assert(
      fc.property(valueArb, (v) => {
        const back = decode(encode(v));
        expect(normalize(back)).toEqual(normalize(v));
      }),
      { numRuns: 500 },
    );
  });

  it("round-trips bytes as bytes and keeps integers and doubles exact", () => {
    const v = { b: new Uint8Array([0, 255, 7]), big: 2 ** 53 - 1, neg: -(2 ** 40), d: 0.1 };
    const back = decode(encode(v)) as { b: Uint8Array; big: number; neg: number; d: number };
    expect(back.b).toBeInstanceOf(Uint8Array);
    expect(Array.from(back.b)).toEqual([0, 255, 7]);
    expect(back.big).toBe(2 ** 53 - 1);
    expect(back.neg).toBe(-(2 ** 40));
    expect(back.d).toBe(0.1);
  });

  it("decodes random garbage to a Value or a DecodeError, never anything else", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 48 }), (bytes) => {
        try {
          decode(bytes);
        } catch (error) {
          expect(error).toBeInstanceOf(DecodeError);
        }
      }),
      { numRuns: 4000 },
    );
  });

  it("decodes mutated encodings to a Value or a DecodeError", () => {
    const mutated = fc
      .tuple(valueArb, fc.nat(), fc.integer({ min: 1, max: 255 }), fc.nat())
      .map(([v, at, xor, cut]) => {
        const bytes = Uint8Array.from(encode(v));
        const i = at % bytes.length;
        bytes[i] = bytes[i]! ^ xor;
        return bytes.subarray(0, bytes.length - (cut % 3));
      });
    fc.assert(
      fc.property(mutated, (bytes) => {
        try {
          decode(bytes);
        } catch (error) {
          expect(error).toBeInstanceOf(DecodeError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("rejects hostile shapes: empty input, trailing bytes, deep nesting, non-finite floats", () => {
    expect(() => decode(new Uint8Array(0))).toThrow(DecodeError);
    const trailing = new Uint8Array([...encode(1), ...encode(2)]);
    expect(() => decode(trailing)).toThrow(DecodeError);
    // 10 000 nested one-element arrays (0x91) around nil
    const deep = new Uint8Array(10_001).fill(0x91);
    deep[10_000] = 0xc0;
    expect(() => decode(deep)).toThrow(DecodeError);
    const nan = new Uint8Array([0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0]);
    expect(() => decode(nan)).toThrow(DecodeError);
    // a MessagePack timestamp (extension -1) would decode to a Date, which is not a Value
    expect(() => decode(new Uint8Array([0xd6, 0xff, 0, 0, 0, 1]))).toThrow(DecodeError);
  });
});

describe("decode with a schema", () => {
  const msg = tagged({
    ping: { n: int(0, 10) },
    put: { entry: object({ key: str(4), values: object({ a: int() }) }) },
  });

  it("returns the typed message when it matches", () => {
    expect(decode(encode({ type: "ping", n: 3 }), msg)).toEqual({ type: "ping", n: 3 });
  });

  it("raises a DecodeError naming the path of the mismatch", () => {
    const cases: [unknown, string][] = [
      [{ type: "ping", n: 11 }, "n"],
      [{ type: "ping", n: 1, x: 0 }, "x"],
      [{ type: "pong" }, "type"],
      [{ type: "put", entry: { key: "toolong", values: { a: 1 } } }, "entry.key"],
      [{ type: "put", entry: { key: "k", values: { a: 1.5 } } }, "entry.values.a"],
    ];
    for (const [input, path] of cases) {
      let caught: unknown;
      try {
        decode(encode(input), msg);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(DecodeError);
      expect((caught as DecodeError).path).toBe(path);
      expect((caught as DecodeError).message).toContain(path);
    }
  });

  it("gives no path when the bytes are not MessagePack", () => {
    let caught: unknown;
    try {
      decode(new Uint8Array([0x92, 0x01]), msg); // an array of two with one element
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(DecodeError);
    expect((caught as DecodeError).path).toBeUndefined();
    expect((caught as DecodeError).message).toMatch(/^not MessagePack/);
  });

  it("wraps a schema that throws something other than SchemaError", () => {
    const broken: Schema<never> = {
      describe: "broken",
      parse() {
        throw new TypeError("boom");
      },
    };
    expect(() => decode(encode(1), broken)).toThrow(DecodeError);
    expect(() => decode(encode(1), broken)).toThrow(/invalid message: boom/);
  });
});

describe("encodeCanonical", () => {
  function shuffled(v: Value, order: number[]): Value {
    if (v === null || typeof v !== "object" || v instanceof Uint8Array) return v;
    if (Array.isArray(v)) return v.map((x) => shuffled(x, order));
    const keys = Object.keys(v);
    const permuted = keys.map((_, i) => keys[(i + (order[i % order.length] ?? 0)) % keys.length]!);
    const seen = new Set<string>();
    const out: Record<string, Value> = {};
    for (const k of [...permuted.reverse(), ...keys]) {
      if (seen.has(k)) continue;
      seen.add(k);
      out[k] = shuffled((v as Record<string, Value>)[k]!, order);
    }
    return out;
  }

  it("gives equal bytes for objects that differ only in key order", () => {
    expect(encodeCanonical({ a: 1, b: { c: 2, d: 3 } })).toEqual(
      encodeCanonical({ b: { d: 3, c: 2 }, a: 1 }),
    );
    // plain encode keeps insertion order, which is why the canonical form exists
    expect(encode({ a: 1, b: 2 })).not.toEqual(encode({ b: 2, a: 1 }));
  });

  it("is insensitive to key order at every depth (property)", () => {
    fc.assert(
      fc.property(valueArb, fc.array(fc.nat(7), { minLength: 1, maxLength: 5 }), (v, order) => {
        expect(encodeCanonical(shuffled(v, order))).toEqual(encodeCanonical(v));
        expect(normalize(decode(encodeCanonical(v)))).toEqual(normalize(v));
      }),
      { numRuns: 300 },
    );
  });

  it("still distinguishes different values", () => {
    expect(encodeCanonical({ a: 1 })).not.toEqual(encodeCanonical({ a: 2 }));
    expect(encodeCanonical([1, 2])).not.toEqual(encodeCanonical([2, 1]));
  });
});
