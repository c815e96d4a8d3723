import { describe, expect, it } from "vitest";
import type { Crypto } from "../../src/core/crypto.js";
import {
  checkProposal,
  checkProposedTime,
  deriveSeed,
  proposeTime,
} from "../../src/core/nondeterminism.js";
import { ReplicatedService } from "../../src/core/replicated-service.js";
import { encode } from "../../src/platform/codec.js";
import { NodeCrypto } from "../../src/platform/node-crypto.js";
import { kvService } from "../../src/state-machines/kv/index.js";

const crypto: Crypto = new NodeCrypto({
  self: "r0",
  macKeys: new Map(),
  deriveMacKey: () => new Uint8Array(32),
  verifyKeys: new Map(),
});
const batch = (text: string) => crypto.digest(encode(text));

describe("validated time (PBFT §4.6)", () => {
  it("the primary proposes its clock, never below the previous entry's time", () => {
    expect(proposeTime(1_000, 1_500.7)).toBe(1_500);
    expect(proposeTime(2_000, 1_500)).toBe(2_000); // its clock went back: keep the log monotonic
  });

  it("a backup accepts a time in [previous, local clock + bound] and names why it refuses", () => {
    expect(checkProposedTime(1_000, 1_000, 1_000, 50)).toEqual({ ok: true });
    expect(checkProposedTime(1_050, 1_000, 1_000, 50)).toEqual({ ok: true });
    expect(checkProposedTime(1_051, 1_000, 1_000, 50)).toEqual({
      ok: false,
      reason: "too-far-ahead",
    });
    expect(checkProposedTime(999, 1_000, 5_000, 50)).toEqual({
      ok: false,
      reason: "before-previous",
    });
    expect(checkProposedTime(1.5, 0, 5_000, 50)).toEqual({ ok: false, reason: "not-an-integer" });
    expect(checkProposedTime(-1, -5, 5_000, 50)).toEqual({ ok: false, reason: "not-an-integer" });
  });

  it("with validated time a faulty primary cannot expire every session at once", () => {
    // A session opened at t=0 with a 10 s ttl. The primary wants it gone and proposes t=1e9;
    // correct backups with clocks near 1 s refuse, so the entry never carries that time.
    const service = new ReplicatedService(kvService, {
      ttlMs: 10_000,
      maxSessions: 10,
      maxOutstanding: 4,
    });
    const open = {
      index: 1,
      term: 1,
      time: 0,
      seed: 0,
      payload: {
        type: "commands" as const,
        commands: [{ client: "c", seq: 0, ackedBelow: 0, cmd: null }],
      },
    };
    service.applyEntry(open);
    const backupClock = 1_000;
    const lie = 1_000_000_000;
    expect(checkProposedTime(lie, 0, backupClock, 500).ok).toBe(false);
    // The largest time a backup accepts keeps the session alive.
    const accepted = backupClock + 500;
    expect(checkProposedTime(accepted, 0, backupClock, 500).ok).toBe(true);
    service.applyEntry({ index: 2, term: 1, time: accepted, seed: 0, payload: { type: "noop" } });
    expect(service.sessionCount).toBe(1);
    // Had the lie been logged, the session would be gone: that is what the check prevents.
    service.applyEntry({ index: 3, term: 1, time: lie, seed: 0, payload: { type: "noop" } });
    expect(service.sessionCount).toBe(0);
  });
});

describe("derived seeds", () => {
  it("depends on view, sequence number and batch digest, and on nothing else", () => {
    const base = { view: 2, seq: 17, batchDigest: batch("a") };
    const seed = deriveSeed(crypto, base);
    expect(Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff).toBe(true);
    expect(deriveSeed(crypto, { ...base })).toBe(seed);
    expect(deriveSeed(crypto, { ...base, view: 3 })).not.toBe(seed);
    expect(deriveSeed(crypto, { ...base, seq: 18 })).not.toBe(seed);
    expect(deriveSeed(crypto, { ...base, batchDigest: batch("b") })).not.toBe(seed);
  });

  it("a backup checks the whole proposal: time bounds and the seed it derives itself", () => {
    const source = { view: 1, seq: 5, batchDigest: batch("x") };
    const seed = deriveSeed(crypto, source);
    expect(checkProposal(crypto, { time: 100, seed }, source, 90, 100, 10)).toEqual({ ok: true });
    expect(checkProposal(crypto, { time: 100, seed: seed ^ 1 }, source, 90, 100, 10)).toEqual({
      ok: false,
      reason: "wrong-seed",
    });
    expect(checkProposal(crypto, { time: 200, seed }, source, 90, 100, 10)).toEqual({
      ok: false,
      reason: "too-far-ahead",
    });
  });
});
