import type { Random } from "../../src/core/prng.js";
import type { ChannelEvent, SecureChannel } from "../../src/net/channel.js";
import type { NetCounters } from "../../src/net/counters.js";

export function randomBytesFrom(random: Random, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 4) {
    const word = random.u32();
    out[i] = word;
    if (i + 1 < n) out[i + 1] = word >>> 8;
    if (i + 2 < n) out[i + 2] = word >>> 16;
    if (i + 3 < n) out[i + 3] = word >>> 24;
  }
  return out;
}

/** The number of refusals counted so far (the sum of the rejection counters). */
export function refusals(c: NetCounters): number {
  return (
    c.malformed +
    c.oversized +
    c.badMac +
    c.replayed +
    c.unauthenticated +
    c.schemaRejected +
    c.unknownPeer
  );
}

/** Feeds one input cut into 1-3 random chunks, then ends the stream. */
export function feed(channel: SecureChannel, input: Uint8Array, random: Random): ChannelEvent[] {
  const events: ChannelEvent[] = [];
  let at = 0;
  const pieces = 1 + random.int(3);
  for (let i = 1; i < pieces && at < input.length; i++) {
    const next = at + random.int(input.length - at + 1);
    events.push(...channel.receive(input.subarray(at, next)));
    at = next;
  }
  events.push(...channel.receive(input.subarray(at)));
  events.push(...channel.end());
  return events;
}

export const equal = (a: Uint8Array, b: Uint8Array) =>
  a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(b);
export const startsWith = (a: Uint8Array, prefix: Uint8Array) =>
  a.length >= prefix.length && equal(a.subarray(0, prefix.length), prefix);

export const fuzzSeed = Number(process.env.NET_FUZZ_SEED ?? Date.now() % 1_000_000_007);
