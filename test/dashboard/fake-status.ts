import type { ClusterSample, ReplicaSample } from "../../src/dashboard/live/replica-sample.js";
import type { ReplicaStatus } from "../../src/runtime/status.js";

/** The fields of a /status the dashboard reads, with `over` applied (tests of its diffing). */
export function fakeStatus(replica: number, over: Partial<ReplicaStatus> = {}): ReplicaStatus {
  const base = {
    clusterId: null,
    replica,
    protocol: "raft",
    service: "kv",
    pid: 1000 + replica,
    startedAt: "2026-01-01T00:00:00.000Z",
    uptimeSeconds: 10,
    host: "127.0.0.1",
    port: 7400 + replica,
    metricsPort: 7500 + replica,
    process: { cpuUserSeconds: 1, cpuSystemSeconds: 0.5, residentBytes: 64 << 20 },
    role: "follower",
    leads: false,
    campaigning: false,
    roles: ["follower", "candidate", "leader"],
    epochName: "term",
    term: 1,
    leader: 0,
    commitIndex: 10,
    appliedIndex: 10,
    lastIndex: 10,
    snapshotIndex: 0,
    heldMessages: 0,
    applied: { entries: 10, commands: 10 },
    snapshots: { taken: 0, installed: 0, lastTakenIndex: null, lastInstalledIndex: null },
    requests: { pending: 0, foreignSession: 0, refused: {}, latency: {}, replies: [] },
    peersConnected: [],
    links: [],
    linkCut: { cut: false, droppedOut: 0, droppedIn: 0 },
    clientsConnected: 0,
    net: { malformed: 0, badMac: 0 },
    details: null,
  };
  return { ...base, ...over } as unknown as ReplicaStatus;
}

export function up(status: ReplicaStatus, at = 0): ReplicaSample {
  return { replica: status.replica, at, status };
}

export function down(replica: number, at = 0, error = "connection refused"): ReplicaSample {
  return { replica, at, error };
}

export function sample(at: number, ...replicas: ReplicaSample[]): ClusterSample {
  return { at, replicas: replicas.map((r) => ({ ...r, at })) };
}
