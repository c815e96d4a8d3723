import { describe, expect, it } from "vitest";
import {
  array,
  bool,
  bytes,
  finite,
  int,
  literal,
  nullable,
  object,
  oneOf,
  optional,
  type Schema,
  SchemaError,
  str,
  tagged,
  value,
} from "../../src/core/schema.js";

/** Parses and returns the SchemaError thrown, failing the test when nothing (or something else) is thrown. */
function rejection(schema: Schema<unknown>, input: unknown, path?: string): SchemaError {
  try {
    schema.parse(input, path);
  } catch (error) {
    expect(error).toBeInstanceOf(SchemaError);
    return error as SchemaError;
  }
  throw new Error(`expected ${JSON.stringify(input)} to be rejected by ${schema.describe}`);
}

describe("int", () => {
  it("accepts integers within bounds, including the bounds", () => {
    const s = int(-2, 5);
    for (const x of [-2, 0, 5]) expect(s.parse(x)).toBe(x);
  });

  it("rejects out of range, fractions, NaN, Infinity and non-numbers", () => {
    const s = int(-2, 5);
    for (const x of [-3, 6, 1.5, Number.NaN, Number.POSITIVE_INFINITY, "1", null, undefined, 1n]) {
      const e = rejection(s, x, "n");
      expect(e.path).toBe("n");
      expect(e.expected).toBe("integer in [-2, 5]");
    }
  });

  it("defaults to the safe integer range", () => {
    expect(int().parse(Number.MAX_SAFE_INTEGER)).toBe(Number.MAX_SAFE_INTEGER);
    rejection(int(), Number.MAX_SAFE_INTEGER + 1);
    rejection(int(), Number.MIN_SAFE_INTEGER - 1);
  });

  it("names the root as 'value' in the message when there is no path", () => {
    const e = rejection(int(0, 1), 7);
    expect(e.path).toBe("");
    expect(e.message).toBe("value: expected integer in [0, 1]");
  });
});

describe("scalars", () => {
  it("finite accepts fractions and rejects NaN/Infinity/strings", () => {
    expect(finite().parse(-1.25)).toBe(-1.25);
    for (const x of [Number.NaN, Number.NEGATIVE_INFINITY, "1"]) rejection(finite(), x);
  });

  it("bool accepts only booleans", () => {
    expect(bool().parse(false)).toBe(false);
    for (const x of [0, 1, "true", null]) rejection(bool(), x);
  });

  it("str bounds the length", () => {
    expect(str(3).parse("abc")).toBe("abc");
    expect(str(3).parse("")).toBe("");
    rejection(str(3), "abcd");
    rejection(str(3), 5);
    rejection(str(3), new String("a"));
  });

  it("bytes accepts Uint8Arrays (and Buffers) up to the bound only", () => {
    expect(bytes(2).parse(new Uint8Array([1, 2]))).toEqual(new Uint8Array([1, 2]));
    expect(bytes(2).parse(Buffer.from([1]))).toBeInstanceOf(Uint8Array);
    rejection(bytes(2), new Uint8Array(3));
    rejection(bytes(2), [1, 2]);
    rejection(bytes(2), new Uint16Array(1));
    rejection(bytes(2), "ab");
  });

  it("literal accepts exactly its value", () => {
    expect(literal("x").parse("x")).toBe("x");
    expect(literal(0).parse(0)).toBe(0);
    expect(literal(null).parse(null)).toBe(null);
    rejection(literal("x"), "y");
    rejection(literal(0), "0");
    rejection(literal(null), undefined);
  });

  it("oneOf accepts the listed strings only", () => {
    const s = oneOf(["a", "b"]);
    expect(s.parse("b")).toBe("b");
    rejection(s, "c");
    rejection(s, "toString");
    rejection(s, 1);
  });
});

describe("optional and nullable", () => {
  it("optional turns undefined and null into undefined and checks anything else", () => {
    const s = optional(int(0, 9));
    expect(s.parse(undefined)).toBeUndefined();
    expect(s.parse(null)).toBeUndefined();
    expect(s.parse(3)).toBe(3);
    expect(rejection(s, 10, "x").path).toBe("x");
  });

  it("nullable accepts null but not undefined", () => {
    const s = nullable(str());
    expect(s.parse(null)).toBeNull();
    expect(s.parse("a")).toBe("a");
    rejection(s, undefined);
    rejection(s, 1);
  });
});

describe("array", () => {
  it("accepts arrays of valid items", () => {
    expect(array(int(0, 9)).parse([1, 2, 3])).toEqual([1, 2, 3]);
    expect(array(int(0, 9)).parse([])).toEqual([]);
  });

  it("names the index of the bad item", () => {
    expect(rejection(array(int(0, 9)), [1, 2, 30]).path).toBe("[2]");
    expect(rejection(array(int(0, 9)), [1, "x"], "xs").path).toBe("xs[1]");
  });

  it("rejects non-arrays and too many items", () => {
    rejection(array(int()), { 0: 1, length: 1 });
    rejection(array(int()), "12");
    const e = rejection(array(int(), 2), [1, 2, 3], "xs");
    expect(e.path).toBe("xs");
  });
});

describe("object", () => {
  const point = object({ x: int(), y: int(), label: optional(str(8)) });

  it("accepts exactly the fields, with optional ones absent or present", () => {
    expect(point.parse({ x: 1, y: 2 })).toEqual({ x: 1, y: 2 });
    expect(point.parse({ x: 1, y: 2, label: "p" })).toEqual({ x: 1, y: 2, label: "p" });
    expect(point.parse(Object.assign(Object.create(null), { x: 1, y: 2 }))).toEqual({ x: 1, y: 2 });
  });

  it("names a missing or wrong field", () => {
    expect(rejection(point, { x: 1 }).path).toBe("y");
    expect(rejection(point, { x: 1, y: "2" }).path).toBe("y");
    expect(rejection(point, { x: 1, y: 2, label: "far too long" }).path).toBe("label");
  });

  it("rejects unknown fields by name", () => {
    const e = rejection(point, { x: 1, y: 2, z: 3 });
    expect(e.path).toBe("z");
    expect(e.expected).toBe("no such field");
    expect(rejection(point, { x: 1, y: 2, z: 3 }, "p").path).toBe("p.z");
  });

  it("rejects non-plain objects", () => {
    for (const x of [null, [1, 2], new Uint8Array(2), new Date(0), new Map(), "o", 1]) {
      expect(rejection(point, x, "p").path).toBe("p");
    }
    class Point {
      x = 1;
      y = 2;
    }
    rejection(point, new Point());
  });

  it("builds dotted and indexed paths through nesting", () => {
    const s = object({ outer: object({ items: array(object({ n: int(0, 1) })) }) });
    expect(s.parse({ outer: { items: [{ n: 0 }, { n: 1 }] } })).toBeTruthy();
    expect(rejection(s, { outer: { items: [{ n: 0 }, { n: 2 }] } }).path).toBe("outer.items[1].n");
    expect(rejection(s, { outer: { items: [{ n: 0, m: 1 }] } }).path).toBe("outer.items[0].m");
    expect(rejection(s, { outer: { items: 5 } }, "msg").path).toBe("msg.outer.items");
  });
});

describe("tagged", () => {
  const msg = tagged({
    ping: { n: int(0, 10) },
    data: { body: object({ text: str(4) }), tags: array(str(2)) },
  });

  it("accepts each variant", () => {
    expect(msg.parse({ type: "ping", n: 3 })).toEqual({ type: "ping", n: 3 });
    expect(msg.parse({ type: "data", body: { text: "hi" }, tags: ["a"] })).toBeTruthy();
  });

  it("rejects an unknown, missing or non-string tag at `type`", () => {
    for (const x of [
      { type: "pong" },
      {},
      { type: 1 },
      { type: "toString" },
      { type: "__proto__" },
    ]) {
      expect(rejection(msg, x).path).toBe("type");
      expect(rejection(msg, x, "m").path).toBe("m.type");
    }
    expect(rejection(msg, "ping").path).toBe("");
  });

  it("names the bad field inside the variant", () => {
    expect(rejection(msg, { type: "ping", n: 11 }).path).toBe("n");
    expect(rejection(msg, { type: "ping", n: 1, extra: true }).path).toBe("extra");
    expect(rejection(msg, { type: "data", body: { text: "long!" }, tags: [] }).path).toBe(
      "body.text",
    );
    expect(rejection(msg, { type: "data", body: { text: "a" }, tags: ["ok", "bad"] }).path).toBe(
      "tags[1]",
    );
    // fields of another variant are unknown here
    expect(rejection(msg, { type: "ping", n: 1, tags: [] }).path).toBe("tags");
  });
});

describe("value", () => {
  const v = value();

  it("accepts every kind of Value", () => {
    const good = {
      a: null,
      b: true,
      c: -1.5,
      d: "s",
      e: new Uint8Array([1]),
      f: [1, [2, { g: [] }]],
      h: {},
    };
    expect(v.parse(good)).toBe(good);
    expect(v.parse(null)).toBeNull();
    expect(v.parse(Object.create(null))).toEqual({});
  });

  it("rejects non-finite numbers with the path", () => {
    expect(rejection(v, Number.NaN).path).toBe("");
    expect(rejection(v, { a: [1, Number.POSITIVE_INFINITY] }).path).toBe(".a[1]");
    expect(rejection(v, { a: Number.NEGATIVE_INFINITY }, "cmd").path).toBe("cmd.a");
  });

  it("rejects functions, Dates, Maps, class instances, undefined, symbols and bigints", () => {
    class K {}
    for (const bad of [
      () => 1,
      new Date(0),
      new Map(),
      new Set(),
      new K(),
      undefined,
      Symbol("s"),
      1n,
    ]) {
      expect(rejection(v, { ok: [bad] }, "x").path).toBe("x.ok[0]");
    }
  });

  it("rejects __proto__ keys", () => {
    const e = rejection(v, JSON.parse('{"a": {"__proto__": {"polluted": 1}}}'), "m");
    expect(e.path).toBe("m.a.__proto__");
  });

  it("bounds nesting depth", () => {
    const nest = (depth: number): unknown => {
      let x: unknown = 0;
      for (let i = 0; i < depth; i++) x = [x];
      return x;
    };
    expect(() => value(4).parse(nest(4))).not.toThrow();
    expect(rejection(value(4), nest(5)).expected).toBe("nesting depth at most 4");
    const deepObject = { a: { b: { c: { d: { e: 1 } } } } };
    expect(rejection(value(4), deepObject).path).toBe(".a.b.c.d");
    // a default-bounded value survives hostile depth without a stack overflow
    expect(rejection(v, nest(100_000)).expected).toBe("nesting depth at most 32");
  });

  it("bounds the total number of items", () => {
    expect(() => value(32, 4).parse([1, 2, 3])).not.toThrow(); // the array itself counts
    const e = rejection(value(32, 4), [1, 2, 3, 4]);
    expect(e.path).toBe("[3]");
    expect(e.expected).toBe("at most 4 items");
    rejection(value(32, 4), { a: [1], b: [2] });
  });
});
