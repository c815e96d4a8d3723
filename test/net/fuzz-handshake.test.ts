import { describe, expect, it } from "vitest";
import { createRandom } from "../../src/core/prng.js";
import { SecureChannel } from "../../src/net/channel.js";
import { createCounters, rejectionCounters, sumCounters } from "../../src/net/counters.js";
import { encodeFrame, FrameKind } from "../../src/net/frame.js";
import {
  clientKeyFile,
  generateClusterKeys,
  keyRingFor,
  replicaKeyFile,
} from "../../src/net/keys.js";
import { type HandshakeKeys, handshakeKeys } from "../../src/net/session-keys.js";
import { equal, feed, fuzzSeed, randomBytesFrom } from "./fuzz-helpers.js";

/**
 * Garbage fuzz of the accepting side before authentication: mutated and random HELLOs, and
 * authentic HELLOs followed by forged CONFIRMs. No input may throw or open a session, and every
 * input but an authentic HELLO alone must be counted exactly once.
 */
const cases = Number(process.env.NET_FUZZ_HANDSHAKE_CASES ?? 20_000);

describe("garbage fuzz of the handshake (in process)", () => {
  it(`drops and counts ${cases} hostile handshake inputs`, () => {
    const seed = fuzzSeed + 1;
    const random = createRandom(seed);
    const keys = generateClusterKeys(2);
    const r1 = handshakeKeys(keyRingFor(replicaKeyFile(keys, 1), "r1"));
    const alice = handshakeKeys(keyRingFor(clientKeyFile(keys, "alice"), "c:alice"));
    const r0 = handshakeKeys(keyRingFor(keys, "r0"));
    const helloOf = (k: HandshakeKeys) => {
      const first = SecureChannel.dial({ keys: k, counters: createCounters() }, "r1").start()[0];
      if (first?.type !== "send") throw new Error("no HELLO");
      return first.bytes;
    };
    const hellos = [helloOf(alice), helloOf(r0)];
    const counters = createCounters();
    let thrown = 0;
    let established = 0;
    let miscounted = 0;
    let challenged = 0;
    for (let i = 0; i < cases; i++) {
      const hello = hellos[i % 2]!;
      let input: Uint8Array;
      switch (random.int(4)) {
        case 0: {
          input = Uint8Array.from(hello);
          for (let k = 1 + random.int(3); k > 0; k--) {
            input[random.int(input.length)]! ^= 1 << random.int(8);
          }
          break;
        }
        case 1:
          input = hello.subarray(0, random.int(hello.length));
          break;
        case 2:
          input = randomBytesFrom(random, random.int(120));
          break;
        default:
          input = Buffer.concat([
            hello,
            encodeFrame(FrameKind.confirm, randomBytesFrom(random, random.int(80)), () =>
              randomBytesFrom(random, 32),
            ),
          ]);
      }
      const channel = SecureChannel.accept({ keys: r1, counters }, () => true);
      const before = sumCounters(counters, rejectionCounters);
      try {
        const events = feed(channel, input, random);
        if (events.some((e) => e.type === "send")) challenged++;
        if (events.some((e) => e.type === "established" || e.type === "message")) established++;
      } catch {
        thrown++;
        continue;
      }
      const delta = sumCounters(counters, rejectionCounters) - before;
      const harmless = equal(input, hello) || input.length === 0; // authentic HELLO alone, or nothing
      if (delta !== (harmless ? 0 : 1)) miscounted++;
    }
    console.log(
      `handshake fuzz seed ${seed}: ${cases} cases, ${challenged} answered with a CHALLENGE; ` +
        JSON.stringify(Object.fromEntries(rejectionCounters.map((c) => [c, counters[c]]))),
    );
    expect({ thrown, established, miscounted }).toEqual({
      thrown: 0,
      established: 0,
      miscounted: 0,
    });
    for (const name of ["malformed", "oversized", "unauthenticated", "unknownPeer"] as const) {
      expect(counters[name], name).toBeGreaterThan(0);
    }
  });
});
