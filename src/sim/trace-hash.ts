/**
 * A running 64-bit hash (two FNV-1a lanes) of everything that happened in a run. Two runs with
 * the same seed must end with the same hash; a replayed failure shows it is the same run.
 */
export class TraceHash {
  private a = 0x811c9dc5;
  private b = 0x01000193 ^ 0x5bd1e995;

  number(n: number): void {
    // Mix integers in two halves so large virtual times and indexes both count.
    this.u32(n >>> 0);
    this.u32(Math.floor(n / 0x100000000) >>> 0);
  }

  u32(x: number): void {
    for (let shift = 0; shift < 32; shift += 8) {
      const byte = (x >>> shift) & 0xff;
      this.a = Math.imul(this.a ^ byte, 0x01000193) >>> 0;
      this.b = Math.imul(this.b ^ byte, 0x01000197) >>> 0;
    }
  }

  bytes(data: Uint8Array): void {
    let a = this.a;
    let b = this.b;
    for (let i = 0; i < data.length; i++) {
      const byte = data[i]!;
      a = Math.imul(a ^ byte, 0x01000193) >>> 0;
      b = Math.imul(b ^ byte, 0x01000197) >>> 0;
    }
    this.a = a;
    this.b = b;
    this.u32(data.length);
  }

  string(s: string): void {
    for (let i = 0; i < s.length; i++) this.u32(s.charCodeAt(i));
  }

  hex(): string {
    return this.a.toString(16).padStart(8, "0") + this.b.toString(16).padStart(8, "0");
  }
}

/** A standalone 64-bit digest of some bytes, as hex. */
export function digestHex(data: Uint8Array): string {
  const h = new TraceHash();
  h.bytes(data);
  return h.hex();
}
