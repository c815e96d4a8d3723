import { createSecretKey, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createRandom, type Random } from "../../src/core/prng.js";
import { type ChannelEvent, SecureChannel } from "../../src/net/channel.js";
import {
  createCounters,
  type NetCounters,
  rejectionCounters,
  sumCounters,
} from "../../src/net/counters.js";
import { encodeFrame, FrameKind } from "../../src/net/frame.js";
import type { SessionSecret } from "../../src/net/handshake.js";
import { Direction, FrameSealer } from "../../src/net/session.js";
import { equal, feed, fuzzSeed, randomBytesFrom, refusals, startsWith } from "./fuzz-helpers.js";

/**
 * Garbage fuzz of the decoder + authenticator, in process (no sockets). Each case feeds one
 * hostile input, cut into random chunks, to a fresh channel and ends the stream. Whatever the
 * input, nothing may throw, a message may come out only if the input began with the authentic
 * frame, and every input that is not exactly authentic frames must be counted exactly once.
 */
const seed = fuzzSeed;
const dataCases = Number(process.env.NET_FUZZ_CASES ?? 1_000_000);

describe("garbage fuzz (in process)", () => {
  it(`drops and counts ${dataCases} hostile data frames, emitting only authentic ones`, () => {
    const random = createRandom(seed);
    const session: SessionSecret = {
      key: createSecretKey(randomBytes(32)),
      peer: "r0",
      role: "responder",
    };
    const sealer = new FrameSealer(session.key, Direction.dialerToResponder);
    const messages = [0, 1, 2, 3].map((n) => randomBytesFrom(random, 20 + n * 30));
    const authentic = messages.map((m) => sealer.seal(m)); // seq 0..3
    const first = authentic[0]!;
    const otherSession = new FrameSealer(
      createSecretKey(randomBytes(32)),
      Direction.dialerToResponder,
    );
    const foreign = otherSession.seal(messages[0]!); // right seq, other connection
    const reflected = new FrameSealer(session.key, Direction.responderToDialer).seal(messages[0]!);
    const handshakeFrame = encodeFrame(FrameKind.hello, randomBytesFrom(random, 60), () =>
      randomBytesFrom(random, 32),
    );

    const counters: NetCounters = createCounters();
    let thrown = 0;
    let counted = 0;
    let exact = 0;
    let empty = 0;
    let falseMessages = 0;
    let uncounted = 0;
    let doubleCounted = 0;
    const started = Date.now();
    for (let i = 0; i < dataCases; i++) {
      const input = mutate(random, i % 12);
      const channel = SecureChannel.fromSession({ keys: undefined as never, counters }, session);
      const before = refusals(counters);
      let events: ChannelEvent[];
      try {
        events = feed(channel, input, random);
      } catch {
        thrown++;
        continue;
      }
      const delta = refusals(counters) - before;
      for (const event of events) {
        if (event.type !== "message") continue;
        if (!startsWith(input, first) || !equal(event.message, messages[0]!)) falseMessages++;
      }
      if (equal(input, first) || input.length === 0) {
        // the authentic frame itself, or no bytes at all: nothing to drop
        if (input.length === 0) empty++;
        else exact++;
        if (delta !== 0) doubleCounted++;
      } else if (delta === 0) uncounted++;
      else if (delta > 1) doubleCounted++;
      else counted++;
    }
    const seconds = (Date.now() - started) / 1000;
    console.log(
      `fuzz seed ${seed}: ${dataCases} data cases in ${seconds.toFixed(1)} s ` +
        `(${Math.round(dataCases / seconds)} frames/s); counted ${counted}, authentic ${exact}, empty ${empty}; ` +
        JSON.stringify(Object.fromEntries(rejectionCounters.map((c) => [c, counters[c]]))),
    );
    expect({ thrown, falseMessages, uncounted, doubleCounted }).toEqual({
      thrown: 0,
      falseMessages: 0,
      uncounted: 0,
      doubleCounted: 0,
    });
    expect(counted + exact + empty).toBe(dataCases);
    expect(refusals(counters)).toBe(sumCounters(counters, rejectionCounters));
    for (const name of ["malformed", "oversized", "badMac", "replayed"] as const) {
      expect(counters[name], name).toBeGreaterThan(0);
    }

    function mutate(r: Random, strategy: number): Uint8Array {
      switch (strategy) {
        case 0: {
          // flip 1-3 bits anywhere
          const out = Uint8Array.from(first);
          for (let k = 1 + r.int(3); k > 0; k--) out[r.int(out.length)]! ^= 1 << r.int(8);
          return out;
        }
        case 1: {
          // overwrite a run of bytes
          const out = Uint8Array.from(first);
          const at = r.int(out.length);
          out.set(randomBytesFrom(r, Math.min(out.length - at, 1 + r.int(8))), at);
          return out;
        }
        case 2:
          return first.subarray(0, r.int(first.length)); // truncated
        case 3:
          return Buffer.concat([first, randomBytesFrom(r, 1 + r.int(40))]); // trailing junk
        case 4:
          return randomBytesFrom(r, r.int(200)); // pure garbage
        case 5: {
          // a plausible header with a random length and kind, then garbage
          const out = randomBytesFrom(r, 5 + r.int(100));
          const length = r.chance(0.5) ? r.int(200) : r.u32();
          Buffer.from(out.buffer).writeUInt32BE(length >>> 0, 0);
          out[4] = r.chance(0.8) ? FrameKind.data : r.int(256);
          return out;
        }
        case 6:
          return authentic[1 + r.int(3)]!; // authentic frame, wrong sequence number
        case 7:
          return foreign; // replayed from another connection
        case 8:
          return reflected; // our own frame sent back
        case 9:
          return Buffer.concat([first, first]); // replayed within the connection
        case 10:
          return handshakeFrame; // handshake after the handshake
        default: {
          // a correct-looking frame with the length field changed
          const out = Uint8Array.from(first);
          Buffer.from(out.buffer).writeUInt32BE((first.length - 4 + r.int(64) - 32) >>> 0, 0);
          return out;
        }
      }
    }
  });
});
