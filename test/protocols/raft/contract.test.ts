import { describe, expect, it } from "vitest";
import { simulatedCluster } from "../../../src/core/config.js";
import type { CoreStatus } from "../../../src/core/protocol.js";
import {
  raftDurableRules,
  raftProtocol,
  raftSnapshotMeta,
  snapshotTerm,
} from "../../../src/protocols/raft/index.js";

const status = (role: string, details?: CoreStatus["details"]): CoreStatus => ({
  role,
  term: 3,
  leader: undefined,
  commitIndex: 0,
  lastIndex: 0,
  ...(details && { details }),
});

describe("what Raft declares to the contract", () => {
  it("status: the leader leads, (pre)candidates campaign, members come from details", () => {
    const s = raftProtocol.status;
    expect(s.leads(status("leader"))).toBe(true);
    expect(s.leads(status("follower"))).toBe(false);
    expect(s.campaigning(status("candidate"))).toBe(true);
    expect(s.campaigning(status("precandidate"))).toBe(true);
    expect(s.campaigning(status("learner"))).toBe(false);
    expect(s.members(status("leader", { voters: [0, 1, 2], learners: [3] }))).toEqual({
      voters: [0, 1, 2],
      learners: [3],
    });
    expect(s.members(status("leader"))).toBeUndefined();
    expect(s.epochName).toBe("term");
  });

  it("replica count 2f+1 and its inverse", () => {
    expect([0, 1, 2].map((f) => raftProtocol.replicaCount.replicasFor(f))).toEqual([1, 3, 5]);
    expect([1, 2, 3, 4, 5].map((n) => raftProtocol.replicaCount.faultsTolerated(n))).toEqual([
      0, 0, 1, 1, 2,
    ]);
  });

  it("validates settings without building a core", () => {
    expect(raftProtocol.validateSettings(simulatedCluster("raft", 3, 1, {}))).toEqual([]);
    expect(
      raftProtocol.validateSettings(simulatedCluster("raft", 3, 1, { electionTicks: 0 })).join(),
    ).toMatch(/electionTicks/);
  });

  it("keeps its term in the neutral snapshot meta, and the log covers a lost snapshot by it", () => {
    const meta = raftSnapshotMeta(10, 4, null);
    expect(snapshotTerm(meta)).toBe(4);
    expect(() => snapshotTerm({ index: 1, config: null })).toThrow(/carries no term/);
    const e = (term: number) => ({
      index: 10,
      term,
      time: 0,
      seed: 0,
      payload: { type: "noop" as const },
    });
    expect(raftDurableRules.gapFree).toBe(true);
    expect(raftDurableRules.logCoversSnapshot(meta, e(4))).toBe(true);
    expect(raftDurableRules.logCoversSnapshot(meta, e(3))).toBe(false);
    expect(raftDurableRules.logCoversSnapshot(meta, undefined)).toBe(false);
  });
});
