import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { toHex } from "../../../src/core/crypto.js";
import {
  makeCommit,
  signPrePrepare,
  signPrepare,
} from "../../../src/protocols/pbft/authenticator.js";
import type {
  Batch,
  Commit,
  Digest,
  PrePrepare,
  Prepare,
} from "../../../src/protocols/pbft/messages.js";
import { batchDigest } from "../../../src/protocols/pbft/signed-bytes.js";
import { SlotLog } from "../../../src/protocols/pbft/slot-log.js";
import { batchOf, request, testCluster } from "./fixtures.js";

/**
 * Agreement within one view under any delivery order: one Byzantine replica (the primary or a
 * backup) sends every message it can sign for two batches A and B at seq 1, a faulty primary
 * pre-prepares A to some backups and B to others; correct replicas prepare what they accepted
 * and commit once prepared. Whatever the order, no two correct replicas commit different batches.
 */
describe("no two correct replicas commit different batches for one (view, seq)", () => {
  const n = 4;
  const c = testCluster(n);
  const A = batchOf(c, 1, request(c, "alice", 1, "a"));
  const B = batchOf(c, 1, request(c, "bob", 1, "b"));
  const digest = (b: Batch) => batchDigest(c.replica(0), b);
  type Msg = PrePrepare | Prepare | Commit;

  // Everything a faulty replica f can say about seq 1 in view 0, for both batches.
  function faultyMessages(f: number): Msg[] {
    const out: Msg[] = [];
    for (const b of [A, B]) {
      if (f === 0)
        out.push(signPrePrepare(c.replica(0), { view: 0, seq: 1, batch: b, replica: 0 }));
      out.push(signPrepare(c.replica(f), { view: 0, seq: 1, digest: digest(b), replica: f }));
      out.push(makeCommit(c.replica(f), n, { view: 0, seq: 1, digest: digest(b), replica: f }));
    }
    return out;
  }

  function run(faulty: number, primaryChoice: readonly boolean[], order: readonly number[]) {
    const logs = [...Array(n).keys()].map(() => new SlotLog(c.q, 8));
    const committed = new Map<number, string>();
    const queue: { to: number; m: Msg }[] = [];
    const correct = [...Array(n).keys()].filter((r) => r !== faulty);
    const broadcast = (m: Msg) => {
      for (const to of correct) queue.push({ to, m });
    };
    // The primary's pre-prepares: a faulty one picks A or B per backup.
    if (faulty === 0) {
      const byBackup = faultyMessages(0).filter((m) => m.type === "preprepare");
      for (const [i, to] of correct.entries())
        queue.push({ to, m: byBackup[primaryChoice[i] ? 1 : 0]! });
    } else {
      broadcast(signPrePrepare(c.replica(0), { view: 0, seq: 1, batch: A, replica: 0 }));
    }
    for (const m of faultyMessages(faulty)) if (m.type !== "preprepare") broadcast(m);

    let step = 0;
    while (queue.length > 0) {
      const pick = (order[step++ % order.length] ?? 0) % queue.length;
      const [{ to, m }] = queue.splice(pick, 1) as [{ to: number; m: Msg }];
      const log = logs[to]!;
      const d: Digest | undefined = m.type === "preprepare" ? digest(m.batch) : undefined;
      const result =
        m.type === "preprepare"
          ? log.addPrePrepare(m, d!)
          : m.type === "prepare"
            ? log.addPrepare(m)
            : log.addCommit(m);
      log.assertInvariants();
      if (!result.accepted) continue;
      if (m.type === "preprepare" && to !== 0) {
        broadcast(signPrepare(c.replica(to), { view: 0, seq: 1, digest: d!, replica: to }));
      }
      if (result.nowPrepared) {
        broadcast(
          makeCommit(c.replica(to), n, { view: 0, seq: 1, digest: log.digestAt(1)!, replica: to }),
        );
      }
      if (result.nowCommitted) committed.set(to, toHex(log.digestAt(1)!));
    }
    return committed;
  }

  it("holds for every faulty replica, primary choice and delivery order tried", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: n - 1 }),
        fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
        fc.array(fc.nat(1000), { minLength: 1, maxLength: 64 }),
        (faulty, choice, order) => {
          const committed = run(faulty, choice, order);
          expect(new Set(committed.values()).size).toBeLessThanOrEqual(1);
        },
      ),
      { numRuns: 150, seed: 12 },
    );
  });

  it("and with a correct primary every correct replica commits its batch", () => {
    for (const faulty of [1, 2, 3]) {
      const committed = run(faulty, [], [0]);
      expect(committed.size).toBe(n - 1);
      expect(new Set(committed.values())).toEqual(new Set([toHex(digest(A))]));
    }
  });
});
