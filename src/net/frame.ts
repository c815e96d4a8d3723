/**
 * The wire frame. Every byte on a lockstep connection belongs to one:
 *
 *   offset 0       u32 big-endian  length N = bytes after this field (kind + body + tag)
 *   offset 4       u8              kind (FrameKind)
 *   offset 5       N - 33 bytes    body
 *   offset N - 28  32 bytes        tag: HMAC-SHA256 over everything before it (see handshake.ts, session.ts)
 *
 * A frame is at most `maxFrameBytes` long in total (4 + N). The decoder reads the length first
 * and refuses an oversized frame before buffering its body, so a hostile length costs nothing.
 */
export const FrameKind = {
  /** Dialer → responder: who I am, whom I want, my nonce. */
  hello: 1,
  /** Responder → dialer: my nonce, proof that I hold the key. */
  challenge: 2,
  /** Dialer → responder: proof that I hold the key. */
  confirm: 3,
  /** Either way, after the handshake: sequence number + one encoded message. */
  data: 4,
  /**
   * Responder → dialer instead of CHALLENGE: "you reached another cluster", with the
   * responder's cluster id. Unauthenticated (its tag is zeros): it only words the error a
   * dialer reports; the connection closes either way.
   */
  refuse: 5,
  /**
   * Responder → dialer instead of CHALLENGE: "your HELLO proves a client key that has been
   * rotated out". Only a dialer that proved a genuine old key gets it, and its tag is the HMAC
   * of the link key of that old key over HELLO and this frame, so nobody else can forge it and
   * an outsider learns nothing from it (docs/net.md, "Rotated-out keys").
   */
  retired: 6,
} as const;
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

export const lengthBytes = 4;
export const headerBytes = 5;
export const tagBytes = 32;
/** The smallest frame: header + empty body + tag. */
export const minFrameBytes = headerBytes + tagBytes;
export const defaultMaxFrameBytes = 16 * 1024 * 1024;
const smallChunkBytes = 4096;
const maxTailBytes = 1 << 20;

function isFrameKind(kind: number): kind is FrameKind {
  return kind >= FrameKind.hello && kind <= FrameKind.retired;
}

export interface Frame {
  readonly kind: FrameKind;
  /** Everything the tag covers: length, kind and body. */
  readonly signed: Uint8Array;
  readonly body: Uint8Array;
  readonly tag: Uint8Array;
}

export type FrameError = {
  readonly type: "error";
  readonly reason: "oversized" | "malformed";
  readonly detail: string;
};
export type FrameEvent = { readonly type: "frame"; readonly frame: Frame } | FrameError;

/** Builds a frame; `tagOf` computes the 32-byte tag over the header and body. */
export function encodeFrame(
  kind: FrameKind,
  body: Uint8Array,
  tagOf: (signed: Uint8Array) => Uint8Array,
): Uint8Array {
  const total = headerBytes + body.length + tagBytes;
  const out = Buffer.allocUnsafe(total);
  out.writeUInt32BE(total - lengthBytes, 0);
  out[4] = kind;
  out.set(body, headerBytes);
  const signed = out.subarray(0, headerBytes + body.length);
  const tag = tagOf(signed);
  if (tag.length !== tagBytes) throw new RangeError(`tag must be ${tagBytes} bytes`);
  out.set(tag, headerBytes + body.length);
  return out;
}

/** Splits a complete frame's bytes into its parts (no checks beyond the sizes). */
export function frameParts(bytes: Uint8Array): Frame {
  const tagAt = bytes.length - tagBytes;
  return {
    kind: bytes[4] as FrameKind,
    signed: bytes.subarray(0, tagAt),
    body: bytes.subarray(headerBytes, tagAt),
    tag: bytes.subarray(tagAt),
  };
}

/**
 * Turns a byte stream cut anywhere into frames. Memory held is bounded by the bytes actually
 * received of the current frame, never by what its length claims. After the first error the
 * decoder is dead: the stream can no longer be trusted to be aligned, so the caller closes it.
 */
export class FrameDecoder {
  private chunks: Uint8Array[] = [];
  /** The growable buffer behind the last chunk, while small chunks are being gathered. */
  private tail: Buffer | undefined;
  private tailUsed = 0;
  /** Read position inside chunks[0]. */
  private offset = 0;
  private bufferedBytes = 0;
  /** Total length (4 + N) of the frame being read, once its header has arrived. */
  private need = 0;
  private dead = false;

  constructor(private maxFrameBytes = defaultMaxFrameBytes) {
    if (!Number.isInteger(maxFrameBytes) || maxFrameBytes < minFrameBytes) {
      throw new RangeError(`maxFrameBytes must be an integer ≥ ${minFrameBytes}`);
    }
  }

  /** Changes the limit for frames not yet started (a connection raises it after its handshake). */
  setMaxFrameBytes(max: number): void {
    this.maxFrameBytes = Math.max(minFrameBytes, max);
  }

  get failed(): boolean {
    return this.dead;
  }

  /** Bytes received but not yet part of a complete frame. */
  get buffered(): number {
    return this.bufferedBytes;
  }

  /**
   * Adds received bytes; take frames out with next(). A chunk that arrives while bytes are
   * already waiting and is small is copied into a growing tail buffer (capacity doubling from
   * 4 KiB to 1 MiB), so a peer trickling a large frame byte by byte costs O(bytes) memory and
   * copying, not an object per chunk.
   */
  push(chunk: Uint8Array): void {
    if (this.dead || chunk.length === 0) return;
    this.bufferedBytes += chunk.length;
    if (this.chunks.length === 0 || chunk.length >= smallChunkBytes) {
      this.chunks.push(chunk);
      this.tail = undefined;
      return;
    }
    let tail = this.tail;
    if (!tail || tail.length - this.tailUsed < chunk.length) {
      const capacity = Math.min(maxTailBytes, Math.max(smallChunkBytes, (tail?.length ?? 0) * 2));
      tail = Buffer.allocUnsafe(capacity);
      this.tail = tail;
      this.tailUsed = 0;
      this.chunks.push(tail.subarray(0, 0));
    }
    tail.set(chunk, this.tailUsed);
    this.tailUsed += chunk.length;
    this.chunks[this.chunks.length - 1] = tail.subarray(0, this.tailUsed);
  }

  /** Buffers held (tests check that trickled bytes do not pile up as many small chunks). */
  get heldChunks(): number {
    return this.chunks.length;
  }

  /**
   * The next complete frame, an error (after which the decoder is dead), or undefined when more
   * bytes are needed. Pulling one frame at a time lets the caller change the limit between
   * frames (a connection raises it once its handshake is done).
   */
  next(): FrameEvent | undefined {
    if (this.dead) return undefined;
    if (this.need === 0) {
      if (this.bufferedBytes < headerBytes) return undefined;
      const header = this.peek(headerBytes);
      const length =
        ((header[0]! << 24) | (header[1]! << 16) | (header[2]! << 8) | header[3]!) >>> 0;
      const total = length + lengthBytes;
      if (total > this.maxFrameBytes) {
        return this.fail("oversized", `frame of ${total} bytes exceeds ${this.maxFrameBytes}`);
      }
      if (total < minFrameBytes) {
        return this.fail("malformed", `frame of ${total} bytes is shorter than ${minFrameBytes}`);
      }
      const kind = header[4]!;
      if (!isFrameKind(kind)) return this.fail("malformed", `unknown frame kind ${kind}`);
      this.need = total;
    }
    if (this.bufferedBytes < this.need) return undefined;
    const bytes = this.take(this.need);
    this.need = 0;
    return { type: "frame", frame: frameParts(bytes) };
  }

  /** push + every event next() yields now (convenient when the limit never changes). */
  decode(chunk: Uint8Array): FrameEvent[] {
    this.push(chunk);
    const events: FrameEvent[] = [];
    for (let event = this.next(); event; event = this.next()) events.push(event);
    return events;
  }

  /** The stream ended: bytes of an unfinished frame are an error. */
  end(): FrameError | undefined {
    if (this.dead || this.bufferedBytes === 0) return undefined;
    const held = this.bufferedBytes;
    return this.fail("malformed", `stream ended inside a frame (${held} bytes pending)`);
  }

  private fail(reason: FrameError["reason"], detail: string): FrameError {
    this.dead = true;
    this.chunks = [];
    this.tail = undefined;
    this.offset = 0;
    this.bufferedBytes = 0;
    this.need = 0;
    return { type: "error", reason, detail };
  }

  /** The next n buffered bytes (n ≤ buffered), without consuming them. */
  private peek(n: number): Uint8Array {
    const first = this.chunks[0]!;
    if (first.length - this.offset >= n) return first.subarray(this.offset, this.offset + n);
    const out = new Uint8Array(n);
    let filled = 0;
    let at = this.offset;
    for (const chunk of this.chunks) {
      const part = Math.min(n - filled, chunk.length - at);
      out.set(chunk.subarray(at, at + part), filled);
      filled += part;
      at = 0;
      if (filled === n) break;
    }
    return out;
  }

  /** Consumes the next n buffered bytes (n ≤ buffered); zero-copy when they sit in one chunk. */
  private take(n: number): Uint8Array {
    this.bufferedBytes -= n;
    const first = this.chunks[0]!;
    if (first.length - this.offset >= n) {
      const out = first.subarray(this.offset, this.offset + n);
      this.offset += n;
      if (this.offset === first.length) this.dropFirstChunk();
      return out;
    }
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.chunks[0]!;
      const part = Math.min(n - filled, chunk.length - this.offset);
      out.set(chunk.subarray(this.offset, this.offset + part), filled);
      filled += part;
      this.offset += part;
      if (this.offset === chunk.length) this.dropFirstChunk();
    }
    return out;
  }

  private dropFirstChunk(): void {
    this.chunks.shift();
    this.offset = 0;
    // The tail is always the last chunk: once it is consumed, start a new one.
    if (this.chunks.length === 0) this.tail = undefined;
  }
}
