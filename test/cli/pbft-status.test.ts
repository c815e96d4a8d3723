import { describe, expect, it } from "vitest";
import {
  assessCluster,
  formatStatusTable,
  formatSummary,
  type ReplicaProbe,
} from "../../src/cli/status-table.js";
import type { ReplicaStatus } from "../../src/runtime/status.js";

// What `lockstep status` makes of PBFT replicas' /status (the real-process run is in
// pbft-cluster.test.ts): the protocol's words, its quorum, its stable checkpoint.

const pbft = (replica: number, role: string, view: number, checkpoint: number): ReplicaStatus =>
  ({
    replica,
    protocol: "pbft",
    epochName: "view",
    role,
    leads: role === "primary",
    term: view,
    leader: view % 4,
    commitIndex: 300,
    appliedIndex: 300,
    lastIndex: 300,
    snapshotIndex: checkpoint,
    peersConnected: [],
    uptimeSeconds: 5,
    pid: 100 + replica,
    details: { stableCheckpoint: checkpoint },
  }) as unknown as ReplicaStatus;

const probes = (...list: (ReplicaStatus | undefined)[]): ReplicaProbe[] =>
  list.map((status, replica) =>
    status === undefined ? { replica, error: "connection refused" } : { replica, status },
  );

describe("lockstep status on a PBFT cluster", () => {
  it("needs 2f+1 answers, not a majority", () => {
    const three = probes(
      undefined,
      pbft(1, "primary", 1, 256),
      pbft(2, "backup", 1, 256),
      pbft(3, "backup", 1, 128),
    );
    const health = assessCluster(three);
    expect(health.quorum).toBe(3);
    expect(health.healthy).toBe(true);
    expect(formatSummary(health)).toBe("primary: r1 (view 1); 3/4 replicas answering");

    // Two of four is a Raft-style majority of nothing: with f = 1, PBFT needs three.
    const two = assessCluster(
      probes(undefined, pbft(1, "primary", 1, 256), pbft(2, "backup", 1, 256), undefined),
    );
    expect(two.healthy).toBe(false);
    expect(formatSummary(two)).toBe(
      "primary: r1 (view 1); 2/4 replicas answering (fewer than 3 answering: no quorum)",
    );
    // 7 replicas tolerate 2: 5 must answer.
    expect(
      assessCluster(probes(pbft(0, "primary", 0, 0), ...Array(6).fill(undefined))).quorum,
    ).toBe(5);
  });

  it("names views and primaries, and shows each replica's stable checkpoint", () => {
    const list = probes(
      pbft(0, "primary", 0, 256),
      pbft(1, "backup", 0, 128),
      pbft(2, "view-change", 1, 256),
      undefined,
    );
    const health = assessCluster(list);
    // The newest view (1) has no primary yet: a view change is under way.
    expect(health.healthy).toBe(false);
    expect(formatSummary(health)).toBe("no primary; 3/4 replicas answering");
    const lines = formatStatusTable(list, health).split("\n");
    expect(lines[0]).toMatch(
      /^replica\s+role\s+view\s+primary\s+commit.*snapshot\s+checkpoint\s+peers/,
    );
    expect(lines[2]).toMatch(/^r1\s+backup\s+0\s+r0\s+300\s+300\s+300\s+\S+\s+128\s+128\s/);
  });
});
