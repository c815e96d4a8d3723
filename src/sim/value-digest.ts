/**
 * A fast structural 53-bit digest of a value (objects hashed with their keys in order), for
 * the simulator's agreement checks. Not cryptographic: it only has to make accidental
 * collisions between different executions vanishingly unlikely, and be cheap.
 */
export function digestValue(v: unknown, seed = 0): number {
  const state = {
    a: (0x811c9dc5 ^ seed) >>> 0,
    b: (0x9747b28c ^ Math.imul(seed, 0x85ebca6b)) >>> 0,
  };
  mixValue(state, v);
  return (state.a >>> 0) * 0x200000 + ((state.b >>> 0) & 0x1fffff);
}

/** Combines digests into one (for hash chains). */
export function combineDigests(...parts: number[]): number {
  const state = { a: 0x811c9dc5, b: 0x9747b28c };
  for (const p of parts) mixNumber(state, p);
  return (state.a >>> 0) * 0x200000 + ((state.b >>> 0) & 0x1fffff);
}

interface HashState {
  a: number;
  b: number;
}

function mix32(s: HashState, x: number): void {
  s.a = Math.imul(s.a ^ x, 0x01000193) >>> 0;
  s.a = (s.a ^ (s.a >>> 15)) >>> 0;
  s.b = Math.imul(s.b ^ x, 0x5bd1e995) >>> 0;
  s.b = (s.b ^ (s.b >>> 13)) >>> 0;
}

function mixNumber(s: HashState, n: number): void {
  if (Number.isInteger(n) && Math.abs(n) < 2 ** 53) {
    mix32(s, n >>> 0);
    mix32(s, Math.floor(n / 0x100000000) | 0);
  } else {
    const text = String(n);
    for (let i = 0; i < text.length; i++) mix32(s, text.charCodeAt(i));
  }
}

function mixValue(s: HashState, v: unknown): void {
  if (v === null || v === undefined) {
    mix32(s, v === null ? 0x6e756c6c : 0x756e6466);
  } else if (typeof v === "number") {
    mix32(s, 1);
    mixNumber(s, v);
  } else if (typeof v === "string") {
    mix32(s, 2);
    mix32(s, v.length);
    for (let i = 0; i < v.length; i++) mix32(s, v.charCodeAt(i));
  } else if (typeof v === "boolean") {
    mix32(s, v ? 3 : 4);
  } else if (v instanceof Uint8Array) {
    mix32(s, 5);
    mix32(s, v.length);
    for (let i = 0; i < v.length; i++) mix32(s, v[i]!);
  } else if (Array.isArray(v)) {
    mix32(s, 6);
    mix32(s, v.length);
    for (const item of v) mixValue(s, item);
  } else if (typeof v === "object") {
    mix32(s, 7);
    for (const key in v as Record<string, unknown>) {
      const item = (v as Record<string, unknown>)[key];
      if (item === undefined) continue; // absent and undefined fields encode the same
      for (let i = 0; i < key.length; i++) mix32(s, key.charCodeAt(i));
      mixValue(s, item);
    }
  } else {
    throw new Error(`digestValue: cannot digest a ${typeof v}`);
  }
}
