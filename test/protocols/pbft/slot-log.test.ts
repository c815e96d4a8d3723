import { describe, expect, it } from "vitest";
import {
  makeCommit,
  signPrePrepare,
  signPrepare,
} from "../../../src/protocols/pbft/authenticator.js";
import type { Batch, Commit, PrePrepare, Prepare } from "../../../src/protocols/pbft/messages.js";
import { primaryOf } from "../../../src/protocols/pbft/quorum.js";
import { batchDigest } from "../../../src/protocols/pbft/signed-bytes.js";
import { SlotLog, type SlotStep } from "../../../src/protocols/pbft/slot-log.js";
import { verifyPreparedCertificate } from "../../../src/protocols/pbft/view-change.js";
import { batchOf, request, type TestCluster, testCluster, zeros } from "./fixtures.js";

/**
 * Trace tests: each row feeds one message to the log and states the outcome, printed as
 * "accepted", "accepted +prepared", "accepted +committed", "accepted +prepared +committed" or
 * "refused <reason>".
 */
type Row = readonly [string, PrePrepare | Prepare | Commit, string];

function show(step: SlotStep): string {
  if (!step.accepted) return `refused ${step.reason}`;
  return [
    step.replaced ? "replaced" : "accepted",
    step.nowPrepared ? "+prepared" : "",
    step.nowCommitted ? "+committed" : "",
  ]
    .filter(Boolean)
    .join(" ");
}

function feed(c: TestCluster, log: SlotLog, m: PrePrepare | Prepare | Commit): SlotStep {
  switch (m.type) {
    case "preprepare":
      return log.addPrePrepare(m, batchDigest(c.replica(0), m.batch));
    case "prepare":
      return log.addPrepare(m);
    case "commit":
      return log.addCommit(m);
  }
}

function trace(c: TestCluster, log: SlotLog, rows: readonly Row[]): void {
  const got = rows.map(([what, m]) => {
    const line = `${what}: ${show(feed(c, log, m))}`;
    log.assertInvariants();
    return line;
  });
  expect(got).toEqual(rows.map(([what, , expected]) => `${what}: ${expected}`));
}

function messages(c: TestCluster) {
  const A = batchOf(c, 10, request(c, "alice", 1, "a"));
  const B = batchOf(c, 10, request(c, "bob", 1, "b"));
  const digest = (b: Batch) => batchDigest(c.replica(0), b);
  return {
    A,
    B,
    pp: (view: number, seq: number, batch: Batch, from = primaryOf(view, c.n)) =>
      signPrePrepare(c.replica(from), { view, seq, batch, replica: from }),
    prepare: (from: number, view: number, seq: number, batch: Batch) =>
      signPrepare(c.replica(from), { view, seq, digest: digest(batch), replica: from }),
    commit: (from: number, view: number, seq: number, batch: Batch) =>
      makeCommit(c.replica(from), c.n, { view, seq, digest: digest(batch), replica: from }),
  };
}

describe("normal case, n = 4 (f = 1)", () => {
  const c = testCluster(4);
  const { A, B, pp, prepare, commit } = messages(c);

  it("pre-prepare + 2f prepares from backups = prepared; + 2f+1 commits = committed-local", () => {
    const log = new SlotLog(c.q, 16);
    trace(c, log, [
      ["PRE-PREPARE v0 n1 A from r0", pp(0, 1, A), "accepted"],
      ["PREPARE r1", prepare(1, 0, 1, A), "accepted"],
      ["PREPARE r2", prepare(2, 0, 1, A), "accepted +prepared"],
      ["PREPARE r3 (late)", prepare(3, 0, 1, A), "accepted"],
      ["COMMIT r0", commit(0, 0, 1, A), "accepted"],
      ["COMMIT r1", commit(1, 0, 1, A), "accepted"],
      ["COMMIT r2", commit(2, 0, 1, A), "accepted +committed"],
      ["COMMIT r3 (late)", commit(3, 0, 1, A), "accepted"],
    ]);
    expect(log.isPrepared(1)).toBe(true);
    expect(log.isCommittedLocal(1)).toBe(true);
  });

  it("the primary's PREPARE is refused and does not count as one of the 2f", () => {
    const log = new SlotLog(c.q, 16);
    trace(c, log, [
      ["PRE-PREPARE from r0", pp(0, 1, A), "accepted"],
      ["PREPARE from the primary r0", prepare(0, 0, 1, A), "refused from-primary"],
      ["PREPARE r1", prepare(1, 0, 1, A), "accepted"],
    ]);
    expect(log.isPrepared(1)).toBe(false);
  });

  it("prepares that arrive before the pre-prepare count when it arrives", () => {
    const log = new SlotLog(c.q, 16);
    trace(c, log, [
      ["PREPARE r1", prepare(1, 0, 1, A), "accepted"],
      ["PREPARE r2", prepare(2, 0, 1, A), "accepted"],
      ["PRE-PREPARE r0", pp(0, 1, A), "accepted +prepared"],
    ]);
  });

  it("prepares for another digest do not count", () => {
    const log = new SlotLog(c.q, 16);
    trace(c, log, [
      ["PRE-PREPARE A", pp(0, 1, A), "accepted"],
      ["PREPARE r1 A", prepare(1, 0, 1, A), "accepted"],
      ["PREPARE r2 B", prepare(2, 0, 1, B), "accepted"],
      ["PREPARE r3 B", prepare(3, 0, 1, B), "accepted"],
    ]);
    expect(log.isPrepared(1)).toBe(false);
  });

  it("commits count only once prepared: 2f+1 early commits commit at the last prepare", () => {
    const log = new SlotLog(c.q, 16);
    trace(c, log, [
      ["COMMIT r1", commit(1, 0, 1, A), "accepted"],
      ["COMMIT r2", commit(2, 0, 1, A), "accepted"],
      ["COMMIT r3", commit(3, 0, 1, A), "accepted"],
      ["PRE-PREPARE", pp(0, 1, A), "accepted"],
      ["PREPARE r1", prepare(1, 0, 1, A), "accepted"],
      ["PREPARE r2", prepare(2, 0, 1, A), "accepted +prepared +committed"],
    ]);
  });

  it("one digest per (view, seq): a second pre-prepare is refused, a different one as equivocation", () => {
    const log = new SlotLog(c.q, 16);
    trace(c, log, [
      ["PRE-PREPARE A", pp(0, 1, A), "accepted"],
      ["same PRE-PREPARE again", pp(0, 1, A), "refused duplicate"],
      ["PRE-PREPARE B, same view and seq", pp(0, 1, B), "refused conflicting-digest"],
      ["PRE-PREPARE B at seq 2", pp(0, 2, B), "accepted"],
    ]);
    expect(log.digestAt(1)).toEqual(batchDigest(c.replica(0), A));
  });

  it("takes the other pre-prepare of an equivocating primary only when 2f+1 COMMITs certify it", () => {
    const log = new SlotLog(c.q, 16);
    trace(c, log, [
      ["PRE-PREPARE A (the primary's lie to us)", pp(0, 1, A), "accepted"],
      ["PREPARE r1 for B", prepare(1, 0, 1, B), "accepted"],
      ["PREPARE r2 for B", prepare(2, 0, 1, B), "accepted"],
      ["COMMIT r0 for B", commit(0, 0, 1, B), "accepted"],
      ["COMMIT r1 for B", commit(1, 0, 1, B), "accepted"],
      ["PRE-PREPARE B with 2f commits", pp(0, 1, B), "refused conflicting-digest"],
      ["COMMIT r2 for B", commit(2, 0, 1, B), "accepted"],
      ["PRE-PREPARE B with 2f+1 commits", pp(0, 1, B), "replaced +prepared +committed"],
      ["PRE-PREPARE A again", pp(0, 1, A), "refused conflicting-digest"],
    ]);
    expect(log.digestAt(1)).toEqual(batchDigest(c.replica(0), B));
    expect(log.isCommitCertified(1, batchDigest(c.replica(0), B))).toBe(true);
    expect(log.isCommitCertified(1, batchDigest(c.replica(0), A))).toBe(false);
  });

  it("throws if 2f+1 COMMITs certify a digest other than one this replica prepared", () => {
    const log = new SlotLog(c.q, 16);
    for (const m of [pp(0, 1, A), prepare(1, 0, 1, A), prepare(2, 0, 1, A)]) feed(c, log, m);
    expect(log.isPrepared(1)).toBe(true);
    // Impossible with at most f faulty replicas: 2f+1 commits for B need f+1 correct replicas
    // that prepared B, and two prepared certificates for one (view, seq) share a correct replica.
    for (const r of [0, 1, 3]) log.addCommit(commit(r, 0, 1, B));
    expect(() => feed(c, log, pp(0, 1, B))).toThrow(
      /prepared one digest, 2f\+1 commits for another/,
    );
  });

  it("a pre-prepare is taken only from the view's primary", () => {
    const log = new SlotLog(c.q, 16);
    trace(c, log, [
      ["PRE-PREPARE v0 signed by r1", pp(0, 1, A, 1), "refused not-primary"],
      ["PRE-PREPARE v0 from r0", pp(0, 1, A), "accepted"],
    ]);
  });

  it("each replica is counted once, and a replica that changes its digest is refused", () => {
    const log = new SlotLog(c.q, 16);
    trace(c, log, [
      ["PRE-PREPARE A", pp(0, 1, A), "accepted"],
      ["PREPARE r1 A", prepare(1, 0, 1, A), "accepted"],
      ["PREPARE r1 A again", prepare(1, 0, 1, A), "refused duplicate"],
      ["PREPARE r1 B", prepare(1, 0, 1, B), "refused sender-equivocates"],
      ["COMMIT r1 A", commit(1, 0, 1, A), "accepted"],
      ["COMMIT r1 B", commit(1, 0, 1, B), "refused sender-equivocates"],
    ]);
    expect(log.isPrepared(1)).toBe(false);
  });

  it("refuses senders outside the replica set", () => {
    const log = new SlotLog(c.q, 16);
    const stranger = { ...prepare(1, 0, 1, A), replica: 4 };
    expect(show(log.addPrepare(stranger))).toBe("refused not-a-replica");
  });
});

describe("quorum sizes, n = 7 (f = 2)", () => {
  const c = testCluster(7);
  const { A, pp, prepare, commit } = messages(c);

  it("2f-1 = 3 prepares do not make prepared; the 2f-th does", () => {
    const log = new SlotLog(c.q, 16);
    trace(c, log, [
      ["PRE-PREPARE r0", pp(0, 1, A), "accepted"],
      ["PREPARE r1", prepare(1, 0, 1, A), "accepted"],
      ["PREPARE r2", prepare(2, 0, 1, A), "accepted"],
      ["PREPARE r3", prepare(3, 0, 1, A), "accepted"],
      ["PREPARE r4", prepare(4, 0, 1, A), "accepted +prepared"],
    ]);
  });

  it("f+1 or 2f commits do not commit; 2f+1 do", () => {
    const log = new SlotLog(c.q, 16);
    trace(c, log, [
      ["PRE-PREPARE r0", pp(0, 1, A), "accepted"],
      ...[1, 2, 3, 4].map(
        (r) =>
          [
            `PREPARE r${r}`,
            prepare(r, 0, 1, A),
            r === 4 ? "accepted +prepared" : "accepted",
          ] as const,
      ),
      ...[0, 1, 2, 3, 4].map(
        (r) =>
          [
            `COMMIT r${r}`,
            commit(r, 0, 1, A),
            r === 4 ? "accepted +committed" : "accepted",
          ] as const,
      ),
    ]);
  });
});

describe("water marks", () => {
  const c = testCluster(4);
  const { A, pp, prepare } = messages(c);

  it("accepts (h, h+L] only, with a reason for each side", () => {
    const log = new SlotLog(c.q, 8);
    trace(c, log, [
      ["PRE-PREPARE n8 = H", pp(0, 8, A), "accepted"],
      ["PRE-PREPARE n9 > H", pp(0, 9, A), "refused above-window"],
      ["PREPARE n9 > H", prepare(1, 0, 9, A), "refused above-window"],
    ]);
    expect(log.windowCheck(0)).toBe("below-window");
  });

  it("a stable checkpoint moves h, discards the slots at or below it, and opens the window above", () => {
    const log = new SlotLog(c.q, 8);
    for (let seq = 1; seq <= 8; seq++)
      log.addPrePrepare(pp(0, seq, A), batchDigest(c.replica(0), A));
    expect(log.size).toBe(8);
    log.advanceLowWaterMark(4);
    expect([log.lowWaterMark, log.highWaterMark, log.size]).toEqual([4, 12, 4]);
    expect(log.prePrepareAt(4)).toBeUndefined();
    trace(c, log, [
      ["PRE-PREPARE n4 (now below h)", pp(0, 4, A), "refused below-window"],
      ["PRE-PREPARE n12", pp(0, 12, A), "accepted"],
      ["PRE-PREPARE n13", pp(0, 13, A), "refused above-window"],
    ]);
    log.advanceLowWaterMark(2); // never backwards
    expect(log.lowWaterMark).toBe(4);
  });
});

describe("views", () => {
  const c = testCluster(4);
  const { A, B, pp, prepare, commit } = messages(c);
  const params = { quorums: c.q, interval: 4, genesisDigest: zeros, windowSize: 8 };

  function preparedAt(log: SlotLog, view: number, seq: number, batch: Batch) {
    const primary = primaryOf(view, c.n);
    log.addPrePrepare(pp(view, seq, batch), batchDigest(c.replica(0), batch));
    for (const r of [0, 1, 2, 3].filter((r) => r !== primary))
      log.addPrepare(prepare(r, view, seq, batch));
  }

  it("refuses old and future views; between views it still takes the view it left", () => {
    const log = new SlotLog(c.q, 16, { view: 1 });
    trace(c, log, [
      ["PRE-PREPARE v0", pp(0, 1, A), "refused old-view"],
      ["PRE-PREPARE v2", pp(2, 1, A), "refused future-view"],
      ["PRE-PREPARE v1", pp(1, 1, A), "accepted"],
    ]);
    log.leaveView();
    expect(log.isActive).toBe(false);
    // The others may carry on in view 1: their votes still make the slot execute here.
    trace(c, log, [
      ["PREPARE v1 r2", prepare(2, 1, 1, A), "accepted"],
      ["PREPARE v1 r3", prepare(3, 1, 1, A), "accepted +prepared"],
      ["COMMIT v1 r1", commit(1, 1, 1, A), "accepted"],
      ["COMMIT v1 r2", commit(2, 1, 1, A), "accepted"],
      ["COMMIT v1 r3", commit(3, 1, 1, A), "accepted +committed"],
      ["PRE-PREPARE v2 (the view asked for, no NEW-VIEW yet)", pp(2, 2, A), "refused future-view"],
    ]);
  });

  it("keeps prepared certificates across views and drops everything else", () => {
    const log = new SlotLog(c.q, 16);
    preparedAt(log, 0, 1, A);
    log.addPrePrepare(pp(0, 2, B), batchDigest(c.replica(0), B)); // pre-prepared only
    log.leaveView();
    log.enterView(1);
    expect(log.isPrepared(1)).toBe(false);
    expect(log.prePrepareAt(2)).toBeUndefined();
    const certs = log.preparedCertificates();
    expect(certs.map((x) => [x.prePrepare.view, x.prePrepare.seq])).toEqual([[0, 1]]);
    // In view 1 the primary is r1; r0's pre-prepare is no longer a primary's.
    trace(c, log, [
      ["PRE-PREPARE v1 from r0", pp(1, 1, A, 0), "refused not-primary"],
      ["PRE-PREPARE v1 from r1", pp(1, 1, A), "accepted"],
    ]);
    expect(() => log.enterView(0)).toThrow(/invariant/);
  });

  it("a certificate is the pre-prepare without inline requests and exactly 2f backup prepares, valid for others", () => {
    const log = new SlotLog(c.q, 16);
    const withInline = signPrePrepare(c.replica(0), { view: 0, seq: 3, batch: A, replica: 0 }, [
      request(c, "alice", 1, "a"),
    ]);
    log.addPrePrepare(withInline, batchDigest(c.replica(0), A));
    for (const r of [3, 1, 2]) log.addPrepare(prepare(r, 0, 3, A));
    const [cert] = log.preparedCertificates();
    expect(cert!.prePrepare.inline).toEqual([]);
    // The 2f that made it prepared (r3 and r1), in replica order; r2's came after.
    expect(cert!.prepares.map((p) => p.replica)).toEqual([1, 3]);
    expect(verifyPreparedCertificate(c.replica(3), params, cert!).ok).toBe(true);
  });

  it("the certificate of the highest view replaces an earlier one", () => {
    const log = new SlotLog(c.q, 16);
    preparedAt(log, 0, 1, A);
    log.leaveView();
    log.enterView(1);
    preparedAt(log, 1, 1, A);
    expect(log.preparedCertificates().map((x) => x.prePrepare.view)).toEqual([1]);
  });
});
