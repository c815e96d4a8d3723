import type { Value } from "./value.js";

/**
 * A tiny schema language for untrusted input. Every decoded message passes through one
 * before a protocol core sees it, so cores can trust field types and bounds.
 */
export interface Schema<T> {
  /** Returns the value typed, or throws SchemaError naming the path of the first bad field. */
  parse(input: unknown, path?: string): T;
  readonly describe: string;
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

export class SchemaError extends Error {
  constructor(
    readonly path: string,
    readonly expected: string,
  ) {
    super(`${path || "value"}: expected ${expected}`);
    this.name = "SchemaError";
  }
}

/**
 * A schema from its check. Checks name no paths while they work: a part's error is renamed as
 * it passes through the parts around it (`within`), so a message that parses, the usual case,
 * builds no path strings (one per field per message was a tenth of the simulator's decoding).
 */
function schema<T>(describe: string, check: (input: unknown) => T): Schema<T> {
  return {
    describe,
    parse: (input, path = "") => {
      if (path === "") return check(input);
      try {
        return check(input);
      } catch (error) {
        throw within(path, error);
      }
    },
  };
}

/** A part's error named from the whole: `at` is where the part sits ("key", "[3]", ".key"). */
function within(at: string, error: unknown): unknown {
  if (!(error instanceof SchemaError)) return error;
  return new SchemaError(joinPath(at, error.path), error.expected);
}

function joinPath(at: string, inner: string): string {
  if (inner === "") return at;
  if (at === "") return inner;
  return inner.startsWith("[") || inner.startsWith(".") ? at + inner : `${at}.${inner}`;
}

export function int(min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): Schema<number> {
  const describe = `integer in [${min}, ${max}]`;
  return schema(describe, (x) => {
    if (typeof x !== "number" || !Number.isInteger(x) || x < min || x > max) {
      throw new SchemaError("", describe);
    }
    return x;
  });
}

export function finite(): Schema<number> {
  return schema("finite number", (x) => {
    if (typeof x !== "number" || !Number.isFinite(x)) throw new SchemaError("", "finite number");
    return x;
  });
}

export function bool(): Schema<boolean> {
  return schema("boolean", (x) => {
    if (typeof x !== "boolean") throw new SchemaError("", "boolean");
    return x;
  });
}

export function str(maxLength = 1 << 16): Schema<string> {
  const describe = `string of at most ${maxLength} characters`;
  return schema(describe, (x) => {
    if (typeof x !== "string" || x.length > maxLength) throw new SchemaError("", describe);
    return x;
  });
}

export function bytes(maxLength = 1 << 26): Schema<Uint8Array> {
  const describe = `bytes of at most ${maxLength}`;
  return schema(describe, (x) => {
    if (!(x instanceof Uint8Array) || x.length > maxLength) throw new SchemaError("", describe);
    return x;
  });
}

export function literal<const T extends string | number | boolean | null>(v: T): Schema<T> {
  const describe = JSON.stringify(v);
  return schema(describe, (x) => {
    if (x !== v) throw new SchemaError("", describe);
    return v;
  });
}

export function oneOf<const T extends string>(values: readonly T[]): Schema<T> {
  const describe = `one of ${values.map((v) => JSON.stringify(v)).join(", ")}`;
  const allowed = new Set<string>(values);
  return schema(describe, (x) => {
    if (typeof x !== "string" || !allowed.has(x)) throw new SchemaError("", describe);
    return x as T;
  });
}

export function array<T>(item: Schema<T>, maxLength = 1 << 20): Schema<T[]> {
  const describe = `array of at most ${maxLength} (${item.describe})`;
  return schema(describe, (x) => {
    if (!Array.isArray(x) || x.length > maxLength) throw new SchemaError("", describe);
    for (let i = 0; i < x.length; i++) {
      try {
        item.parse(x[i]);
      } catch (error) {
        throw within(`[${i}]`, error);
      }
    }
    return x as T[];
  });
}

export function optional<T>(inner: Schema<T>): Schema<T | undefined> {
  return schema(`optional ${inner.describe}`, (x) =>
    x === undefined || x === null ? undefined : inner.parse(x),
  );
}

export function nullable<T>(inner: Schema<T>): Schema<T | null> {
  return schema(`${inner.describe} or null`, (x) => (x === null ? null : inner.parse(x)));
}

type Shape = Record<string, Schema<unknown>>;
type OptionalKeys<S extends Shape> = {
  [K in keyof S]: undefined extends Infer<S[K]> ? K : never;
}[keyof S];
type RequiredKeys<S extends Shape> = Exclude<keyof S, OptionalKeys<S>>;
export type ObjectOf<S extends Shape> = { [K in RequiredKeys<S>]: Infer<S[K]> } & {
  [K in OptionalKeys<S>]?: Infer<S[K]>;
};

export function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (typeof x !== "object" || x === null || Array.isArray(x) || x instanceof Uint8Array) {
    return false;
  }
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

/** An object with exactly these fields; unknown fields are rejected so nothing unchecked slips in. */
export function object<S extends Shape>(shape: S): Schema<ObjectOf<S>> {
  const keys = Object.keys(shape);
  const describe = `{ ${keys.map((k) => `${k}: ${shape[k]?.describe}`).join("; ")} }`;
  const known = new Set(keys);
  return schema(describe, (x) => {
    if (!isPlainObject(x)) throw new SchemaError("", "object");
    for (const key of keys) {
      try {
        shape[key]!.parse(x[key]);
      } catch (error) {
        throw within(key, error);
      }
    }
    for (const key of Object.keys(x)) {
      if (!known.has(key)) throw new SchemaError(key, "no such field");
    }
    return x as ObjectOf<S>;
  });
}

/** A tagged union on the field `type`. */
export function tagged<V extends Record<string, Shape>>(
  variants: V,
): Schema<{ [K in keyof V]: { type: K } & ObjectOf<V[K]> }[keyof V]> {
  const parsers = new Map<string, Schema<unknown>>();
  for (const [tag, shape] of Object.entries(variants)) {
    parsers.set(tag, object({ type: literal(tag), ...shape }));
  }
  const describe = `message with type ${[...parsers.keys()].join(" | ")}`;
  return schema(describe, (x) => {
    if (!isPlainObject(x)) throw new SchemaError("", "object");
    const tag = x.type;
    const parser = typeof tag === "string" ? parsers.get(tag) : undefined;
    if (!parser) throw new SchemaError("type", describe);
    parser.parse(x);
    return x as { [K in keyof V]: { type: K } & ObjectOf<V[K]> }[keyof V];
  });
}

/** Any codec value, bounded in depth and total size so hostile input cannot exhaust the stack. */
export function value(maxDepth = 32, maxItems = 1 << 20): Schema<Value> {
  const describe = "value (null, boolean, number, string, bytes, array, object)";
  return schema(describe, (x) => {
    let items = 0;
    const visit = (v: unknown, depth: number): void => {
      if (++items > maxItems) throw new SchemaError("", `at most ${maxItems} items`);
      if (v === null || typeof v === "boolean" || typeof v === "string") return;
      if (typeof v === "number") {
        if (!Number.isFinite(v)) throw new SchemaError("", "finite number");
        return;
      }
      if (v instanceof Uint8Array) return;
      if (typeof v === "bigint") {
        // msgpackr would send 10n as the number 10; refuse it rather than change its type.
        throw new SchemaError("", "a number (bigint is not a Value: send a number or a string)");
      }
      if (depth >= maxDepth) throw new SchemaError("", `nesting depth at most ${maxDepth}`);
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) {
          try {
            visit(v[i], depth + 1);
          } catch (error) {
            throw within(`[${i}]`, error);
          }
        }
        return;
      }
      if (isPlainObject(v)) {
        for (const key of Object.keys(v)) {
          if (key === "__proto__") throw new SchemaError(`.${key}`, "no such field");
          try {
            visit(v[key], depth + 1);
          } catch (error) {
            throw within(`.${key}`, error);
          }
        }
        return;
      }
      throw new SchemaError("", describe);
    };
    visit(x, 0);
    return x as Value;
  });
}
