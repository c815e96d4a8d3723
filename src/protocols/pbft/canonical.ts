import type { Value } from "../../core/value.js";

/**
 * The canonical byte encoding PBFT digests, signs and MACs. It is defined here, byte by byte,
 * rather than borrowed from the wire codec: every replica must produce identical bytes for the
 * same message forever, and a general-purpose codec is free to change how it encodes a number
 * (float32 or float64, fixint or uint64) between versions. Nothing here is ever decoded; it only
 * feeds a hash.
 *
 * Layout primitives (all integers big-endian):
 * - u8, u32: 1 and 4 bytes.
 * - u64: 8 bytes; only safe integers (0 ≤ x ≤ 2^53 - 1) are accepted.
 * - bytes: u32 length, then the bytes.
 * - str: u32 length of the UTF-8 encoding, then the UTF-8 bytes.
 * - value: a tag byte, then
 *   0 null | 1 false | 2 true | 3 number: IEEE-754 float64 (−0 written as +0) |
 *   4 string: str | 5 bytes: bytes | 6 array: u32 count, items |
 *   7 object: u32 count, then (key as str, value) pairs sorted by key (UTF-16 code unit order).
 */
export class ByteWriter {
  private buffer: Uint8Array;
  private view: DataView;
  private length = 0;

  constructor() {
    // Every message is encoded at least once to be signed or MAC'd and once more per check, so
    // writers are short-lived and many: their buffers come from a small free list and go back
    // to it in finish() (a writer never finished just leaves its buffer to the collector).
    const spare = spareBuffers.pop();
    this.buffer = spare?.buffer ?? new Uint8Array(256);
    this.view = spare?.view ?? new DataView(this.buffer.buffer);
  }

  private reserve(extra: number): void {
    const needed = this.length + extra;
    if (needed <= this.buffer.length) return;
    let size = Math.max(256, this.buffer.length * 2);
    while (size < needed) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buffer.subarray(0, this.length));
    this.buffer = next;
    this.view = new DataView(next.buffer);
  }

  u8(x: number): this {
    if (!Number.isInteger(x) || x < 0 || x > 0xff) throw new RangeError(`u8 out of range: ${x}`);
    this.reserve(1);
    this.buffer[this.length++] = x;
    return this;
  }

  u32(x: number): this {
    if (!Number.isInteger(x) || x < 0 || x > 0xffffffff) {
      throw new RangeError(`u32 out of range: ${x}`);
    }
    this.reserve(4);
    this.view.setUint32(this.length, x);
    this.length += 4;
    return this;
  }

  u64(x: number): this {
    if (!Number.isSafeInteger(x) || x < 0) throw new RangeError(`u64 out of range: ${x}`);
    this.reserve(8);
    this.view.setUint32(this.length, Math.floor(x / 0x100000000));
    this.view.setUint32(this.length + 4, x >>> 0);
    this.length += 8;
    return this;
  }

  bool(x: boolean): this {
    return this.u8(x ? 1 : 0);
  }

  /** Raw bytes without a length: only for fields of fixed size (digests) or a fixed prefix. */
  raw(data: Uint8Array): this {
    this.reserve(data.length);
    this.buffer.set(data, this.length);
    this.length += data.length;
    return this;
  }

  bytes(data: Uint8Array): this {
    return this.u32(data.length).raw(data);
  }

  str(s: string): this {
    // UTF-8 takes at most 3 bytes per UTF-16 code unit: encode in place, then write the length.
    this.reserve(4 + 3 * s.length);
    const at = this.length;
    const { written } = utf8.encodeInto(s, this.buffer.subarray(at + 4));
    this.view.setUint32(at, written);
    this.length = at + 4 + written;
    return this;
  }

  value(v: Value): this {
    if (v === null) return this.u8(0);
    if (v === false) return this.u8(1);
    if (v === true) return this.u8(2);
    if (typeof v === "number") {
      if (!Number.isFinite(v)) throw new RangeError("canonical encoding of a non-finite number");
      this.u8(3);
      this.reserve(8);
      this.view.setFloat64(this.length, v === 0 ? 0 : v);
      this.length += 8;
      return this;
    }
    if (typeof v === "string") return this.u8(4).str(v);
    if (v instanceof Uint8Array) return this.u8(5).bytes(v);
    if (Array.isArray(v)) {
      const items = v as readonly Value[];
      this.u8(6).u32(items.length);
      for (const item of items) this.value(item);
      return this;
    }
    const record = v as { readonly [key: string]: Value };
    const keys = Object.keys(record).sort();
    this.u8(7).u32(keys.length);
    for (const key of keys) this.str(key).value(record[key]!);
    return this;
  }

  finish(): Uint8Array {
    const out = copyOut(this.buffer, this.length);
    if (spareBuffers.length < maxSpareBuffers && this.buffer.length <= maxSpareBytes) {
      spareBuffers.push({ buffer: this.buffer, view: this.view });
    }
    // The buffer may now belong to another writer: this one starts over on a buffer of its own.
    this.buffer = finished;
    this.view = finishedView;
    this.length = 0;
    return out;
  }
}

const spareBuffers: { buffer: Uint8Array; view: DataView }[] = [];
const maxSpareBuffers = 16;
const maxSpareBytes = 64 * 1024;
const finished = new Uint8Array(0);
const finishedView = new DataView(finished.buffer);

/**
 * A copy of the first `length` bytes of `from`. Small copies are carved out of a shared slab:
 * allocating an ArrayBuffer costs about a microsecond (ten times the copy), and every message
 * is encoded here at least once per check. A slab stays alive while any copy cut from it does,
 * so copies above a quarter of a slab get their own buffer.
 */
function copyOut(from: Uint8Array, length: number): Uint8Array {
  if (length > slabBytes / 4) return from.slice(0, length);
  if (slabUsed + length > slab.length) {
    slab = new Uint8Array(slabBytes);
    slabUsed = 0;
  }
  const out = slab.subarray(slabUsed, slabUsed + length);
  out.set(from.subarray(0, length));
  slabUsed += length;
  return out;
}

const slabBytes = 16 * 1024;
let slab = new Uint8Array(slabBytes);
let slabUsed = 0;

const utf8 = new TextEncoder();
