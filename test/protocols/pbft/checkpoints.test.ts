import { describe, expect, it } from "vitest";
import { signCheckpoint } from "../../../src/protocols/pbft/authenticator.js";
import {
  CheckpointCollector,
  type CheckpointStep,
  genesisCheckpoint,
  verifyCheckpointProof,
} from "../../../src/protocols/pbft/checkpoints.js";
import type { Checkpoint, CheckpointProof } from "../../../src/protocols/pbft/messages.js";
import { digestOf, testCluster, zeros } from "./fixtures.js";

const c = testCluster(4);
const params = { quorums: c.q, interval: 8, genesisDigest: zeros };
const S1 = digestOf("state at 8");
const S2 = digestOf("another state at 8");
const cp = (replica: number, seq: number, stateDigest = S1): Checkpoint =>
  signCheckpoint(c.replica(replica), { seq, stateDigest, replica });

function show(step: CheckpointStep): string {
  if (!step.accepted) return `refused ${step.reason}`;
  return step.nowStable ? `stable ${step.nowStable.seq}` : "accepted";
}

function trace(
  collector: CheckpointCollector,
  rows: readonly (readonly [string, Checkpoint, string])[],
) {
  expect(rows.map(([what, m]) => `${what}: ${show(collector.add(m))}`)).toEqual(
    rows.map(([what, , expected]) => `${what}: ${expected}`),
  );
}

describe("CheckpointCollector", () => {
  it("2f+1 matching checkpoints from distinct replicas make it stable; f+1 do not", () => {
    const collector = new CheckpointCollector(params, 4);
    trace(collector, [
      ["r0 at 8", cp(0, 8), "accepted"],
      ["r1 at 8 (f+1)", cp(1, 8), "accepted"],
      ["r1 at 8 again", cp(1, 8), "refused duplicate"],
      ["r2 at 8 (2f+1)", cp(2, 8), "stable 8"],
      ["r3 at 8 (late)", cp(3, 8), "refused stale"],
    ]);
    expect(collector.stable.proof.map((m) => m.replica)).toEqual([0, 1, 2]);
    expect(verifyCheckpointProof(c.replica(3), params, collector.stable)).toEqual({ ok: true });
  });

  it("checkpoints with different digests do not add up", () => {
    const collector = new CheckpointCollector(params, 4);
    trace(collector, [
      ["r0 S1", cp(0, 8, S1), "accepted"],
      ["r1 S2", cp(1, 8, S2), "accepted"],
      ["r2 S1", cp(2, 8, S1), "accepted"],
      ["r1 S1 (r1 changes its mind)", cp(1, 8, S1), "refused sender-equivocates"],
      ["r3 S1", cp(3, 8, S1), "stable 8"],
    ]);
    expect(collector.stable.proof.map((m) => m.replica)).toEqual([0, 2, 3]);
  });

  it("refuses sequence numbers that are not checkpoints, and strangers", () => {
    const collector = new CheckpointCollector(params, 4);
    trace(collector, [
      ["r0 at 7", cp(0, 7), "refused not-a-checkpoint-seq"],
      ["r0 at 0", cp(0, 0), "refused not-a-checkpoint-seq"],
    ]);
    expect(show(collector.add({ ...cp(0, 8), replica: 4 }))).toBe("refused not-a-replica");
  });

  it("a later stable checkpoint supersedes pending earlier ones", () => {
    const collector = new CheckpointCollector(params, 4);
    trace(collector, [
      ["r0 at 8", cp(0, 8), "accepted"],
      ["r0 at 16", cp(0, 16), "accepted"],
      ["r1 at 16", cp(1, 16), "accepted"],
      ["r2 at 16", cp(2, 16), "stable 16"],
      ["r1 at 8", cp(1, 8), "refused stale"],
    ]);
    expect(collector.size).toBe(0);
  });

  it("bounds memory per replica, dropping its lowest pending checkpoint", () => {
    const collector = new CheckpointCollector(params, 2);
    for (const seq of [8, 16, 24, 32, 40]) collector.add(cp(3, seq));
    expect(collector.size).toBe(2);
    // r3's checkpoint at 8 was dropped, so two more at 8 are not enough...
    trace(collector, [
      ["r3 at 8 again (older than its two kept)", cp(3, 8), "refused superseded"],
      ["r0 at 8", cp(0, 8), "accepted"],
      ["r1 at 8", cp(1, 8), "accepted"],
      // ...but its kept one at 40 still counts.
      ["r0 at 40", cp(0, 40), "accepted"],
      ["r1 at 40", cp(1, 40), "stable 40"],
    ]);
  });

  it("tells a replica it fell behind once f+1 replicas checkpointed ahead", () => {
    const collector = new CheckpointCollector(params, 4);
    collector.add(cp(1, 64));
    expect(collector.weaklyCertifiedAhead()).toBeUndefined(); // one replica may lie
    collector.add(cp(2, 128));
    expect(collector.weaklyCertifiedAhead()).toBe(64); // r1 and r2 both reached 64
  });

  it("install adopts a proof from elsewhere, never going back", () => {
    const collector = new CheckpointCollector(params, 4);
    const proof: CheckpointProof = {
      seq: 16,
      stateDigest: S1,
      proof: [cp(0, 16), cp(1, 16), cp(2, 16)],
    };
    collector.add(cp(3, 8));
    collector.install(proof);
    expect(collector.stable.seq).toBe(16);
    expect(collector.size).toBe(0);
    collector.install(genesisCheckpoint(zeros));
    expect(collector.stable.seq).toBe(16);
  });
});

describe("verifyCheckpointProof", () => {
  const good: CheckpointProof = { seq: 8, stateDigest: S1, proof: [cp(0, 8), cp(1, 8), cp(2, 8)] };
  const forged = { ...cp(3, 8), sig: cp(2, 8).sig };

  it.each([
    ["a valid proof", good, "ok"],
    ["the genesis checkpoint", genesisCheckpoint(zeros), "ok"],
    ["a genesis checkpoint with another digest", genesisCheckpoint(S1), "genesis-mismatch"],
    ["seq 7", { ...good, seq: 7 }, "not-a-checkpoint-seq"],
    ["f+1 signers", { ...good, proof: good.proof.slice(0, 2) }, "too-few"],
    [
      "a signer counted twice",
      { ...good, proof: [cp(0, 8), cp(1, 8), cp(1, 8)] },
      "duplicate-or-unknown-signer",
    ],
    [
      "a stranger",
      { ...good, proof: [...good.proof.slice(0, 2), { ...cp(2, 8), replica: 9 }] },
      "duplicate-or-unknown-signer",
    ],
    [
      "a checkpoint for another digest",
      { ...good, proof: [cp(0, 8), cp(1, 8), cp(2, 8, S2)] },
      "mismatch",
    ],
    [
      "a checkpoint for another seq",
      { ...good, proof: [cp(0, 8), cp(1, 8), cp(2, 16)] },
      "mismatch",
    ],
    [
      "a signature by someone else",
      { ...good, proof: [cp(0, 8), cp(1, 8), forged] },
      "bad-signature",
    ],
    ["a claimed digest none signed", { ...good, stateDigest: S2 }, "mismatch"],
  ])("%s: %s", (_name, proof, expected) => {
    const result = verifyCheckpointProof(c.replica(3), params, proof);
    expect(result.ok ? "ok" : result.reason).toBe(expected);
  });
});
