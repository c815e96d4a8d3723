import { describe, expect, it } from "vitest";
import { signPrePrepare, signPrepare } from "../../../src/protocols/pbft/authenticator.js";
import type { PbftCounters } from "../../../src/protocols/pbft/counters.js";
import { requestDigest } from "../../../src/protocols/pbft/signed-bytes.js";
import { PbftHarness } from "./core-harness.js";

/**
 * The counters behind PBFT's metrics (counters.ts; /metrics in runtime/pbft-metrics.ts): they
 * move when the protocol works, and each kind of rejected message lands in its own kind.
 */
const put = (key: string, value: number) => ({ op: "put", key, value });

function counters(h: PbftHarness, id: number): PbftCounters {
  return (h.cores[id]!.status().details as unknown as { counters: PbftCounters }).counters;
}

function started(): PbftHarness {
  const h = new PbftHarness({ settings: { checkpointInterval: 2, windowSize: 4 } });
  h.tick();
  return h;
}

describe("Ed25519 checks per ordered request (4 replicas, one request per batch)", () => {
  it("the primary checks the request and 2f PREPAREs, a backup the PRE-PREPARE and one PREPARE", () => {
    const h = new PbftHarness({ settings: { checkpointInterval: 128, windowSize: 256 } });
    h.tick();
    h.client(0, h.request("alice", 0, null));
    h.deliver({ quiet: true });
    const before = h.all().map((id) => counters(h, id).signaturesVerified);
    for (let t = 1; t <= 10; t++) {
      h.client(0, h.request("alice", t, put("x", t)));
      h.deliver({ quiet: true });
    }
    // Not checked: a backup's request (its MAC entry instead), a replica's own PRE-PREPARE or
    // PREPARE inside the certificate it checks (remembered when signed), and a PREPARE arriving
    // after the slot prepared (nothing to add).
    expect(h.all().map((id) => (counters(h, id).signaturesVerified - before[id]!) / 10)).toEqual([
      3, 2, 2, 2,
    ]);
    expect(h.services.map((s) => s.appliedIndex)).toEqual([11, 11, 11, 11]);
  });
});

describe("PBFT counters", () => {
  it("count batches, crypto work and stable checkpoints while requests are ordered", () => {
    // Before the first tick the primary only queues: both requests go into seq 1.
    const h = new PbftHarness({ settings: { checkpointInterval: 2, windowSize: 4 } });
    h.client(0, h.request("alice", 0, null));
    h.client(0, h.request("alice", 1, put("x", 1)));
    h.tick();
    h.deliver({ quiet: true });
    h.client(0, h.request("alice", 2, put("x", 2)));
    h.tick();
    h.deliver({ quiet: true });
    for (const id of h.all()) {
      const c = counters(h, id);
      expect(c.batchesExecuted).toBe(2);
      expect(c.requestsExecuted).toBe(3);
      // Sizes 2 and 1: one batch in the "≤ 1" bucket, one in "≤ 2".
      expect(c.batchSizeCounts.slice(0, 3)).toEqual([1, 1, 0]);
      expect(c.checkpointsStable).toBe(1); // seq 2 = K
      expect(c.signaturesVerified).toBeGreaterThan(0);
      expect(c.macsComputed).toBeGreaterThan(0);
      expect(c.macsVerified).toBeGreaterThan(0);
    }
    expect(counters(h, 0).batchesProposed).toBe(2);
    expect(counters(h, 1).batchesProposed).toBe(0);
    // Backups sign their prepares (and everyone its checkpoint); the primary signs pre-prepares.
    for (const id of h.all()) expect(counters(h, id).signaturesComputed).toBeGreaterThanOrEqual(3);
  });

  it("a forged request bumps bad-signature at every replica, each time it comes", () => {
    const h = started();
    const good = h.request("alice", 1, put("x", 1));
    const sig = Uint8Array.from(good.sig);
    sig[0] = sig[0]! ^ 0xff;
    const forged = { ...good, sig };
    for (const id of h.all()) h.client(id, forged);
    for (const id of h.all()) expect(counters(h, id).rejected["bad-signature"]).toBe(1);
    // A forgery is never remembered as verified: the second copy is checked and counted again.
    h.client(1, forged);
    expect(counters(h, 1).rejected["bad-signature"]).toBe(2);
    expect(counters(h, 1).signaturesRemembered).toBe(0);
  });

  it("a request seen again is answered from the verified-signature memory", () => {
    const h = started();
    const r = h.request("alice", 0, null);
    h.client(1, r);
    const before = counters(h, 1);
    h.client(1, r); // a client's retry
    const after = counters(h, 1);
    expect(after.signaturesVerified).toBe(before.signaturesVerified);
    expect(after.signaturesRemembered).toBe(before.signaturesRemembered + 1);
  });

  it("sorts rejected replica messages by kind", () => {
    const h = started();
    const keys = h.keys.replica(2);
    // A prepare that names replica 2 but arrives on replica 3's link.
    const prepare = signPrepare(keys, {
      view: 0,
      seq: 1,
      digest: new Uint8Array(32),
      replica: 2,
    });
    h.inject(3, 1, prepare);
    expect(counters(h, 1).rejected["wrong-sender"]).toBe(1);
    // The same prepare with a flipped signature byte, on the right link.
    const sig = Uint8Array.from(prepare.sig);
    sig[5] = sig[5]! ^ 1;
    h.inject(2, 1, { ...prepare, sig });
    expect(counters(h, 1).rejected["bad-signature"]).toBe(1);
    // A correctly signed pre-prepare far above the high water mark (window 4).
    const r = h.request("alice", 0, null);
    const pp = signPrePrepare(
      h.keys.replica(0),
      {
        view: 0,
        seq: 50,
        batch: { time: 1000, requests: [requestDigest(keys, r)] },
        replica: 0,
      },
      [r],
    );
    h.inject(0, 1, pp);
    expect(counters(h, 1).rejected["outside-window"]).toBe(1);
    // A pre-prepare for view 3, which replica 1 is not in.
    h.inject(0, 1, signPrePrepare(h.keys.replica(0), { ...pp, seq: 1, view: 3 }, [r]));
    expect(counters(h, 1).rejected["wrong-view"]).toBe(1);
    // A pre-prepare from a backup (replica 2 is not the primary of view 0).
    h.inject(2, 1, signPrePrepare(keys, { ...pp, seq: 1, replica: 2 }, [r]));
    expect(counters(h, 1).rejected["not-primary"]).toBe(1);
    // Nothing else was counted as a rejection.
    const total = Object.values(counters(h, 1).rejected).reduce((a, b) => a + b, 0);
    expect(total).toBe(5);
  });

  it("counts view changes started and new views installed", () => {
    const h = new PbftHarness({
      settings: { checkpointInterval: 2, windowSize: 4, requestTimeoutTicks: 3 },
    });
    h.tick();
    // A request the primary never sees: the backups' timers expire and they change view.
    const r = h.request("alice", 0, null);
    for (const id of [1, 2, 3]) h.client(id, r);
    h.lose((m) => m.to === 0);
    for (let i = 0; i < 6; i++) {
      h.tick([1, 2, 3]);
      h.deliver({ quiet: true, drop: (m) => m.to === 0 || m.from === 0 });
    }
    for (const id of [1, 2, 3]) {
      expect(counters(h, id).viewChangesStarted).toBeGreaterThanOrEqual(1);
      expect(counters(h, id).newViewsInstalled).toBe(1);
    }
    expect(counters(h, 0).newViewsInstalled).toBe(0);
  });
});
