import { describe, expect, it } from "vitest";
import { equalBytes } from "../../../src/core/crypto.js";
import {
  makeCommit,
  signPrePrepare,
  signPrepare,
  verifyCommit,
  verifyPrePrepare,
  verifyPrepare,
  verifyRequest,
} from "../../../src/protocols/pbft/authenticator.js";
import { genesisCheckpoint } from "../../../src/protocols/pbft/checkpoints.js";
import type { Commit, PrePrepare, Prepare } from "../../../src/protocols/pbft/messages.js";
import { primaryOf } from "../../../src/protocols/pbft/quorum.js";
import { requestDigest } from "../../../src/protocols/pbft/signed-bytes.js";
import { SlotLog } from "../../../src/protocols/pbft/slot-log.js";
import {
  buildNewView,
  buildViewChange,
  planNewView,
  verifyNewView,
  verifyViewChange,
} from "../../../src/protocols/pbft/view-change.js";
import { request, testCluster, zeros } from "./fixtures.js";

/**
 * The building blocks used together the way the orchestrator will: every message authenticated
 * by the receiver before its log sees it. Not a protocol implementation (no timers, no
 * retransmission): a scripted run to show the pieces fit and the view change preserves what
 * committed.
 */
describe("normal case, then a view change that keeps a prepared request", () => {
  const c = testCluster(4);
  const params = { quorums: c.q, interval: 8, genesisDigest: zeros, windowSize: 16 };
  const logs = [0, 1, 2, 3].map(() => new SlotLog(c.q, 16));
  const committed: Map<number, string>[] = [0, 1, 2, 3].map(() => new Map());

  /**
   * Delivers to `to` after authenticating (a replica's own messages need no check, and its own
   * COMMIT has no authenticator entry for itself); returns whether its log accepted it.
   */
  function deliver(to: number, m: PrePrepare | Prepare | Commit): boolean {
    const crypto = c.replica(to);
    const log = logs[to]!;
    const own = m.replica === to;
    let step: ReturnType<SlotLog["addPrepare"]>;
    if (m.type === "preprepare") {
      const checked = verifyPrePrepare(crypto, m);
      if (!checked.ok) return false;
      step = log.addPrePrepare(m, checked.digest);
    } else if (m.type === "prepare") {
      if (!own && !verifyPrepare(crypto, m).ok) return false;
      step = log.addPrepare(m);
    } else {
      if (!own && !verifyCommit(crypto, to, m).ok) return false;
      step = log.addCommit(m);
    }
    log.assertInvariants();
    if (step.accepted && step.nowCommitted) {
      const digest = log.digestAt(m.seq)!;
      committed[to]!.set(m.seq, Buffer.from(digest).toString("hex"));
    }
    return step.accepted;
  }

  /** Sends to `to`, the sender included: a replica logs its own messages like anyone's. */
  function broadcast(m: PrePrepare | Prepare | Commit, to: readonly number[] = [0, 1, 2, 3]) {
    for (const r of to) deliver(r, m);
  }

  function prepareAndCommit(view: number, seq: number, replicas: number[], commit: boolean) {
    const primary = primaryOf(view, c.n);
    for (const r of replicas) {
      if (r === primary) continue;
      const digest = logs[r]!.digestAt(seq);
      if (digest) broadcast(signPrepare(c.replica(r), { view, seq, digest, replica: r }), replicas);
    }
    if (!commit) return;
    for (const r of replicas) {
      if (!logs[r]!.isPrepared(seq)) continue;
      const digest = logs[r]!.digestAt(seq)!;
      broadcast(makeCommit(c.replica(r), c.n, { view, seq, digest, replica: r }), replicas);
    }
  }

  it("runs", () => {
    const reqs = [1, 2, 3].map((t) => request(c, "alice", t, { put: ["k", t] }));
    for (const r of reqs) expect(verifyRequest(c.replica(1), r).ok).toBe(true);
    const batchAt = (i: number) => ({
      time: 10 * i,
      requests: [requestDigest(c.replica(0), reqs[i - 1]!)],
    });

    // Seq 1 and 2 commit everywhere in view 0.
    for (const seq of [1, 2]) {
      broadcast(signPrePrepare(c.replica(0), { view: 0, seq, batch: batchAt(seq), replica: 0 }));
      prepareAndCommit(0, seq, [0, 1, 2, 3], true);
    }
    expect(committed.map((m) => [...m.keys()])).toEqual([
      [1, 2],
      [1, 2],
      [1, 2],
      [1, 2],
    ]);

    // Seq 3: the primary's pre-prepare reaches r1 and r2; they prepare (with r3 absent, r1 and r2
    // are 2f = 2 prepares) but no commit gets out before the primary fails.
    broadcast(
      signPrePrepare(c.replica(0), { view: 0, seq: 3, batch: batchAt(3), replica: 0 }),
      [1, 2],
    );
    prepareAndCommit(0, 3, [1, 2], false);
    expect([logs[1]!.isPrepared(3), logs[2]!.isPrepared(3), logs[3]!.isPrepared(3)]).toEqual([
      true,
      true,
      false,
    ]);

    // View change to 1: r1, r2, r3 send VIEW-CHANGE; the new primary is r1.
    const vcs = [1, 2, 3].map((r) => {
      logs[r]!.leaveView();
      return buildViewChange(
        c.replica(r),
        r,
        1,
        genesisCheckpoint(zeros),
        logs[r]!.preparedCertificates(),
      );
    });
    for (const vc of vcs) expect(verifyViewChange(c.replica(1), params, vc)).toEqual({ ok: true });
    const planned = planNewView(c.replica(1), params, 1, vcs);
    if (!planned.ok) throw new Error(planned.reason);
    const nv = buildNewView(c.replica(1), 1, planned.plan, vcs);

    for (const r of [1, 2, 3]) {
      const checked = verifyNewView(c.replica(r), params, nv);
      expect(checked.ok).toBe(true);
      logs[r]!.enterView(1);
      for (const pp of nv.prePrepares) expect(deliver(r, pp)).toBe(true);
    }
    // Seqs 1 and 2 are re-issued too (no stable checkpoint yet), and seq 3 keeps its batch.
    expect(nv.prePrepares.map((p) => p.seq)).toEqual([1, 2, 3]);
    for (const seq of [1, 2, 3]) prepareAndCommit(1, seq, [1, 2, 3], true);

    // Every replica that committed a seq committed the same batch, in both views.
    for (let seq = 1; seq <= 3; seq++) {
      const digests = new Set(committed.map((m) => m.get(seq)).filter((d) => d !== undefined));
      expect(digests.size).toBe(1);
    }
    expect([...committed[3]!.keys()].sort()).toEqual([1, 2, 3]);
    expect(equalBytes(logs[3]!.digestAt(3)!, logs[1]!.digestAt(3)!)).toBe(true);
  });
});
