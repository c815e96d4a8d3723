import { createHmac, type KeyObject, timingSafeEqual } from "node:crypto";
import { type Frame, FrameKind, headerBytes, lengthBytes, tagBytes } from "./frame.js";

/**
 * Data frames of an established connection. Body: `[u64 big-endian sequence number]` then one
 * or more `[u32 big-endian length][message]` (a batch: whatever was queued when the socket took
 * more, so the MAC is paid per frame, not per message). Tag: HMAC-SHA256(session key,
 * direction byte ‖ length ‖ kind ‖ body). Each direction counts frames from 0 and the receiver
 * accepts exactly the next number, so a frame from another connection fails the MAC (another
 * session key), a frame sent back to its sender fails the MAC (another direction), and a
 * replayed or reordered frame fails the sequence check.
 */
export const Direction = { dialerToResponder: 0, responderToDialer: 1 } as const;
export type Direction = (typeof Direction)[keyof typeof Direction];

export const seqBytes = 8;
const messageLengthBytes = 4;
/** Bytes a data frame adds around a single message. */
export const dataFrameOverhead = headerBytes + seqBytes + messageLengthBytes + tagBytes;
/** Bytes each further message in the same frame adds. */
export const batchedMessageOverhead = messageLengthBytes;

const directionBytes = [Uint8Array.of(0), Uint8Array.of(1)] as const;

function dataTag(key: KeyObject, direction: Direction, signed: Uint8Array): Uint8Array {
  return createHmac("sha256", key).update(directionBytes[direction]).update(signed).digest();
}

export class FrameSealer {
  private seq = 0;

  constructor(
    private readonly key: KeyObject,
    private readonly direction: Direction,
  ) {}

  /** The next data frame carrying one message. */
  seal(message: Uint8Array): Uint8Array {
    return this.sealBatch([message]);
  }

  /** The next data frame carrying these messages (at least one), in order. */
  sealBatch(messages: readonly Uint8Array[]): Uint8Array {
    if (messages.length === 0) throw new RangeError("a data frame carries at least one message");
    let total = headerBytes + seqBytes + tagBytes;
    for (const m of messages) total += messageLengthBytes + m.length;
    const out = Buffer.allocUnsafe(total);
    out.writeUInt32BE(total - lengthBytes, 0);
    out[4] = FrameKind.data;
    const seq = this.seq++;
    out.writeUInt32BE(Math.floor(seq / 0x1_0000_0000), headerBytes);
    out.writeUInt32BE(seq >>> 0, headerBytes + 4);
    let at = headerBytes + seqBytes;
    for (const m of messages) {
      out.writeUInt32BE(m.length, at);
      out.set(m, at + messageLengthBytes);
      at += messageLengthBytes + m.length;
    }
    out.set(dataTag(this.key, this.direction, out.subarray(0, at)), at);
    return out;
  }

  get nextSeq(): number {
    return this.seq;
  }
}

export type OpenResult =
  | { readonly ok: true; readonly seq: number; readonly messages: readonly Uint8Array[] }
  | {
      readonly ok: false;
      readonly counter: "malformed" | "badMac" | "replayed";
      readonly detail: string;
    };

export class FrameOpener {
  constructor(
    private readonly key: KeyObject,
    private readonly direction: Direction,
    private expected = 0,
  ) {}

  open(frame: Frame): OpenResult {
    if (frame.kind !== FrameKind.data) {
      return {
        ok: false,
        counter: "malformed",
        detail: `handshake frame kind ${frame.kind} after the handshake`,
      };
    }
    const body = frame.body;
    if (body.length < seqBytes) {
      return { ok: false, counter: "malformed", detail: "data frame without a sequence number" };
    }
    const tag = dataTag(this.key, this.direction, frame.signed);
    if (frame.tag.length !== tagBytes || !timingSafeEqual(tag, frame.tag)) {
      return { ok: false, counter: "badMac", detail: "data frame MAC does not verify" };
    }
    const high = ((body[0]! << 24) | (body[1]! << 16) | (body[2]! << 8) | body[3]!) >>> 0;
    const low = ((body[4]! << 24) | (body[5]! << 16) | (body[6]! << 8) | body[7]!) >>> 0;
    const seq = high * 0x1_0000_0000 + low;
    if (seq !== this.expected) {
      return {
        ok: false,
        counter: "replayed",
        detail: `sequence number ${seq}, expected ${this.expected}`,
      };
    }
    this.expected++;
    // Authentic from here on: a bad batch layout is a broken (not a hostile) sender.
    const messages: Uint8Array[] = [];
    let at = seqBytes;
    while (at < body.length) {
      if (body.length - at < messageLengthBytes) {
        return { ok: false, counter: "malformed", detail: "data frame ends inside a length" };
      }
      const length =
        ((body[at]! << 24) | (body[at + 1]! << 16) | (body[at + 2]! << 8) | body[at + 3]!) >>> 0;
      at += messageLengthBytes;
      if (length > body.length - at) {
        return { ok: false, counter: "malformed", detail: "message overruns its data frame" };
      }
      messages.push(body.subarray(at, at + length));
      at += length;
    }
    if (messages.length === 0) {
      return { ok: false, counter: "malformed", detail: "data frame without a message" };
    }
    return { ok: true, seq, messages };
  }

  get expectedSeq(): number {
    return this.expected;
  }
}
