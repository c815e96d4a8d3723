import { describe, expect, it } from "vitest";
import { signPrePrepare } from "../../../src/protocols/pbft/authenticator.js";
import type { PbftCounters } from "../../../src/protocols/pbft/counters.js";
import { requestDigest } from "../../../src/protocols/pbft/signed-bytes.js";
import { PbftHarness } from "./core-harness.js";

/**
 * A faulty client against PBFT (Clement et al., NSDI'09, "the big MAC attack"): with MAC
 * authenticators alone a client can make its request verify at some replicas and not at others,
 * so the primary orders it while backups refuse it, or backups start view changes for a request
 * the primary refuses. lockstep's requests carry the client's signature and a MAC authenticator:
 * whoever vouches for a request first (the primary, or a replica taking it from a client) checks
 * the signature, which gives the same answer everywhere; a backup checks a request inside a
 * batch by its own MAC entry, falling back to the signature. These tests show the attack has
 * nothing to work with, and that the cheap path is the one taken.
 */
const put = (key: string, value: number) => ({ op: "put", key, value });

describe("a faulty client", () => {
  it("sends a request whose authenticator is bad: every replica drops it alike, nothing is ordered, no timer starts", () => {
    const h = new PbftHarness({
      settings: { checkpointInterval: 4, windowSize: 8, requestTimeoutTicks: 5 },
    });
    h.tick();
    const good = h.request("alice", 1, put("x", 1));
    const sig = Uint8Array.from(good.sig);
    sig[0] = sig[0]! ^ 0xff;
    const forged = { ...good, sig };
    // To every replica, as a client whose authenticator verifies nowhere; and to the primary
    // again with a different body under the same signature (an altered request).
    for (const id of h.all()) expect(h.client(id, forged)).toBe("");
    expect(h.client(0, { ...good, op: { kind: "command", value: put("x", 666) } })).toBe("");
    for (const id of h.all()) expect(h.drops(id).auth).toBeGreaterThanOrEqual(1);
    // Ticks well past the request timeout: no replica holds it, so no view change starts.
    for (let i = 0; i < 12; i++) expect(h.tick()).not.toContain("viewchange");
    expect(h.status([0])).toContain("0: primary view=0");
    expect(h.services.map((s) => s.appliedIndex)).toEqual([0, 0, 0, 0]);
  });

  it("a primary that puts a forged request in its batch is refused by every correct backup", () => {
    const h = new PbftHarness({ settings: { checkpointInterval: 4, windowSize: 8 } });
    h.tick();
    // Signature only: the primary cannot make the client's MAC entries for the backups.
    const good = h.request("alice", 0, null, { signatureOnly: true });
    const sig = Uint8Array.from(good.sig);
    sig[1] = sig[1]! ^ 0x01;
    const forged = { ...good, sig };
    // Replica 0, the primary, orders it as if it verified: every backup checks the signature of
    // every request in the batch, so none PREPAREs and each counts an authentication failure.
    const pp = signPrePrepare(
      h.keys.replica(0),
      {
        view: 0,
        seq: 1,
        batch: { time: 1000, requests: [requestDigest(h.keys.replica(0), forged)] },
        replica: 0,
      },
      [forged],
    );
    for (const id of [1, 2, 3]) {
      expect(h.inject(0, id, pp)).toBe("");
      expect(h.drops(id).auth).toBe(1);
    }
  });

  it("a backup checks a request inside a batch by its own MAC entry, not the signature", () => {
    const signaturesChecked = (h: PbftHarness, id: number) =>
      (h.cores[id]!.status().details as unknown as { counters: PbftCounters }).counters
        .signaturesVerified;
    for (const signatureOnly of [false, true]) {
      const h = new PbftHarness({ settings: { checkpointInterval: 4, windowSize: 8 } });
      h.tick();
      const r = h.request("alice", 0, null, { signatureOnly });
      const pp = signPrePrepare(
        h.keys.replica(0),
        {
          view: 0,
          seq: 1,
          batch: { time: 1000, requests: [requestDigest(h.keys.replica(0), r)] },
          replica: 0,
        },
        [r],
      );
      const before = signaturesChecked(h, 1);
      expect(h.inject(0, 1, pp)).toContain("prepare");
      // The PRE-PREPARE's signature always; the request's only without a MAC entry.
      expect(signaturesChecked(h, 1) - before).toBe(signatureOnly ? 2 : 1);
    }
  });

  it("split MAC: entries bad at some backups send them to the signature, and the batch still prepares everywhere", () => {
    const h = new PbftHarness({ settings: { checkpointInterval: 4, windowSize: 8 } });
    h.tick();
    const good = h.request("alice", 0, null);
    const auth = good.auth!.map((entry, i) => (i === 2 || i === 3 ? new Uint8Array(32) : entry));
    const split = { ...good, auth };
    h.client(0, split);
    h.deliver({ quiet: true });
    expect(h.services.map((s) => s.appliedIndex)).toEqual([1, 1, 1, 1]);
    for (const id of h.all()) expect(h.drops(id).auth).toBe(0);
  });

  it("MAC entries good, signature bad: the primary refuses to order it and no backup holds it", () => {
    const h = new PbftHarness({
      settings: { checkpointInterval: 4, windowSize: 8, requestTimeoutTicks: 5 },
    });
    h.tick();
    const good = h.request("alice", 1, put("x", 1));
    const sig = Uint8Array.from(good.sig);
    sig[9] = sig[9]! ^ 0x10;
    const macOnly = { ...good, sig };
    for (const id of h.all()) expect(h.client(id, macOnly)).toBe("");
    for (const id of h.all()) expect(h.drops(id).auth).toBe(1);
    for (let i = 0; i < 12; i++) expect(h.tick()).not.toContain("viewchange");
    expect(h.services.map((s) => s.appliedIndex)).toEqual([0, 0, 0, 0]);
  });
});
