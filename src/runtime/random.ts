import { randomBytes } from "node:crypto";
import { createRandom, type Random } from "../core/prng.js";

/**
 * A PRNG for a real process, seeded from the operating system (48 random bits). Cores take all
 * their randomness from a `Random`; at runtime it only needs to differ between processes and
 * restarts (election timeouts, entry seeds), not to replay.
 */
export function runtimeRandom(): Random {
  return createRandom(randomBytes(6).readUIntBE(0, 6));
}
