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

function schema<T>(describe: string, parse: (input: unknown, path: string) => T): Schema<T> {
  return { describe, parse: (input, path = "") => parse(input, path) };
}

export function int(min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): Schema<number> {
  const describe = `integer in [${min}, ${max}]`;
  return schema(describe, (x, path) => {
    if (typeof x !== "number" || !Number.isInteger(x) || x < min || x > max) {
      throw new SchemaError(path, describe);
    }
    return x;
  });
}

export function finite(): Schema<number> {
  return schema("finite number", (x, path) => {
    if (typeof x !== "number" || !Number.isFinite(x)) throw new SchemaError(path, "finite number");
    return x;
  });
}

export function bool(): Schema<boolean> {
  return schema("boolean", (x, path) => {
    if (typeof x !== "boolean") throw new SchemaError(path, "boolean");
    return x;
  });
}

export function str(maxLength = 1 << 16): Schema<string> {
  const describe = `string of at most ${maxLength} characters`;
  return schema(describe, (x, path) => {
    if (typeof x !== "string" || x.length > maxLength) throw new SchemaError(path, describe);
    return x;
  });
}

export function bytes(maxLength = 1 << 26): Schema<Uint8Array> {
  const describe = `bytes of at most ${maxLength}`;
  return schema(describe, (x, path) => {
    if (!(x instanceof Uint8Array) || x.length > maxLength) throw new SchemaError(path, describe);
    return x;
  });
}

export function literal<const T extends string | number | boolean | null>(v: T): Schema<T> {
  const describe = JSON.stringify(v);
  return schema(describe, (x, path) => {
    if (x !== v) throw new SchemaError(path, describe);
    return v;
  });
}

export function oneOf<const T extends string>(values: readonly T[]): Schema<T> {
  const describe = `one of ${values.map((v) => JSON.stringify(v)).join(", ")}`;
  const allowed = new Set<string>(values);
  return schema(describe, (x, path) => {
    if (typeof x !== "string" || !allowed.has(x)) throw new SchemaError(path, describe);
    return x as T;
  });
}

export function array<T>(item: Schema<T>, maxLength = 1 << 20): Schema<T[]> {
  const describe = `array of at most ${maxLength} (${item.describe})`;
  return schema(describe, (x, path) => {
    if (!Array.isArray(x) || x.length > maxLength) throw new SchemaError(path, describe);
    for (let i = 0; i < x.length; i++) item.parse(x[i], `${path}[${i}]`);
    return x as T[];
  });
}

export function optional<T>(inner: Schema<T>): Schema<T | undefined> {
  return schema(`optional ${inner.describe}`, (x, path) =>
    x === undefined || x === null ? undefined : inner.parse(x, path),
  );
}

export function nullable<T>(inner: Schema<T>): Schema<T | null> {
  return schema(`${inner.describe} or null`, (x, path) =>
    x === null ? null : inner.parse(x, path),
  );
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
  return schema(describe, (x, path) => {
    if (!isPlainObject(x)) throw new SchemaError(path, "object");
    for (const key of keys) shape[key]!.parse(x[key], path ? `${path}.${key}` : key);
    for (const key of Object.keys(x)) {
      if (!known.has(key)) throw new SchemaError(path ? `${path}.${key}` : key, "no such field");
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
  return schema(describe, (x, path) => {
    if (!isPlainObject(x)) throw new SchemaError(path, "object");
    const tag = x.type;
    const parser = typeof tag === "string" ? parsers.get(tag) : undefined;
    if (!parser) throw new SchemaError(path ? `${path}.type` : "type", describe);
    parser.parse(x, path);
    return x as { [K in keyof V]: { type: K } & ObjectOf<V[K]> }[keyof V];
  });
}

/** Any codec value, bounded in depth and total size so hostile input cannot exhaust the stack. */
export function value(maxDepth = 32, maxItems = 1 << 20): Schema<Value> {
  const describe = "value (null, boolean, number, string, bytes, array, object)";
  return schema(describe, (x, path) => {
    let items = 0;
    const visit = (v: unknown, p: string, depth: number): void => {
      if (++items > maxItems) throw new SchemaError(p, `at most ${maxItems} items`);
      if (v === null || typeof v === "boolean" || typeof v === "string") return;
      if (typeof v === "number") {
        if (!Number.isFinite(v)) throw new SchemaError(p, "finite number");
        return;
      }
      if (v instanceof Uint8Array) return;
      if (typeof v === "bigint") {
        // msgpackr would send 10n as the number 10; refuse it rather than change its type.
        throw new SchemaError(p, "a number (bigint is not a Value: send a number or a string)");
      }
      if (depth >= maxDepth) throw new SchemaError(p, `nesting depth at most ${maxDepth}`);
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) visit(v[i], `${p}[${i}]`, depth + 1);
        return;
      }
      if (isPlainObject(v)) {
        for (const key of Object.keys(v)) {
          if (key === "__proto__") throw new SchemaError(`${p}.${key}`, "no such field");
          visit(v[key], `${p}.${key}`, depth + 1);
        }
        return;
      }
      throw new SchemaError(p, describe);
    };
    visit(x, path, 0);
    return x as Value;
  });
}
