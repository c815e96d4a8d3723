import { describe, expect, it } from "vitest";
import { clientReplySchema, clientRequestSchema } from "../../../src/core/client-messages.js";
import type { ClientOperation } from "../../../src/core/client-operation.js";
import { simulatedCluster } from "../../../src/core/config.js";
import { createRandom } from "../../../src/core/prng.js";
import { decode, encode } from "../../../src/platform/codec.js";
import {
  defaultRaftSettings,
  parseRaftSettings,
  type RaftMessage,
  raftPeerMessageSchema,
  raftProtocol,
} from "../../../src/protocols/raft/index.js";
import { Cluster, entry, put } from "./harness.js";

describe("raft settings", () => {
  it("fills in defaults", () => {
    expect(parseRaftSettings({})).toEqual(defaultRaftSettings);
    expect(parseRaftSettings(undefined)).toEqual(defaultRaftSettings);
    expect(parseRaftSettings({ electionTicks: 20, initialVoters: [2, 0, 1] }, 3)).toMatchObject({
      electionTicks: 20,
      initialVoters: [0, 1, 2],
    });
  });

  it("names every bad field in one error", () => {
    let message = "";
    try {
      parseRaftSettings({
        electionTicks: 1,
        preVote: "yes",
        maxInflight: 0,
        bogus: 1,
        maxClockDrift: 2,
      });
    } catch (error) {
      message = (error as Error).message;
    }
    for (const field of ["electionTicks", "preVote", "maxInflight", "bogus", "maxClockDrift"]) {
      expect(message).toContain(field);
    }
  });

  it("treats prototype member names as unknown settings", () => {
    expect(() => parseRaftSettings({ constructor: 1 })).toThrow(
      /constructor: unknown raft setting/,
    );
    expect(() => parseRaftSettings(JSON.parse('{"__proto__": {"preVote": false}}'))).toThrow(
      /__proto__/,
    );
    expect(() => parseRaftSettings({ toString: 5 })).toThrow(/toString/);
  });

  it("checks relations between fields and replica ids", () => {
    expect(() => parseRaftSettings({ heartbeatTicks: 10, electionTicks: 10 })).toThrow(
      /heartbeatTicks/,
    );
    expect(() => parseRaftSettings({ leaseReads: true, checkQuorum: false })).toThrow(/leaseReads/);
    expect(() => parseRaftSettings({ initialVoters: [0, 5] }, 3)).toThrow(/initialVoters/);
    expect(() => parseRaftSettings({ initialVoters: [1, 1] }, 3)).toThrow(/twice/);
    expect(() => parseRaftSettings({ initialVoters: [] }, 3)).toThrow(/initialVoters/);
  });
});

describe("raft peer message schema", () => {
  const messages: RaftMessage[] = [
    { type: "vote", term: 3, lastIndex: 10, lastTerm: 2, pre: true, transfer: false },
    { type: "voteReply", term: 3, granted: true, pre: false },
    {
      type: "append",
      term: 3,
      prevIndex: 1,
      prevTerm: 1,
      entries: [
        entry(2, 3, {
          type: "commands",
          commands: [{ client: "a", seq: 1, ackedBelow: 1, cmd: { x: 1 } }],
        }),
        entry(3, 3, { type: "config", config: { voters: [0, 1], learners: [2] } }),
      ],
      commit: 1,
      round: 7,
    },
    {
      type: "appendReply",
      term: 3,
      success: false,
      matchIndex: 0,
      rejectedIndex: 4,
      conflictIndex: 2,
      conflictTerm: 1,
      round: 7,
    },
    {
      type: "snapshot",
      term: 3,
      index: 9,
      snapTerm: 2,
      config: { voters: [0, 1, 2], learners: [] },
      time: 1234,
      total: 3,
      offset: 0,
      data: new Uint8Array([1, 2, 3]),
      done: true,
    },
    { type: "snapshotReply", term: 3, index: 9, received: 3, done: true },
    { type: "timeoutNow", term: 3 },
  ];

  it("accepts every message through the codec", () => {
    for (const m of messages) {
      const decoded = decode(encode(m), raftPeerMessageSchema);
      // The codec hands back bytes as Buffer, a Uint8Array subclass.
      if (decoded.type === "snapshot")
        expect(new Uint8Array(decoded.data)).toEqual(new Uint8Array([1, 2, 3]));
      expect({ ...decoded, data: undefined }).toEqual({ ...m, data: undefined });
    }
  });

  it("rejects unknown types, missing or extra fields and out-of-range values", () => {
    expect(() => raftPeerMessageSchema.parse({ type: "nope", term: 1 })).toThrow();
    expect(() => raftPeerMessageSchema.parse({ type: "timeoutNow" })).toThrow(/term/);
    expect(() => raftPeerMessageSchema.parse({ type: "timeoutNow", term: 1, extra: 2 })).toThrow(
      /extra/,
    );
    expect(() => raftPeerMessageSchema.parse({ type: "timeoutNow", term: -1 })).toThrow(/term/);
    expect(() =>
      raftPeerMessageSchema.parse({ type: "voteReply", term: 1, granted: "yes", pre: false }),
    ).toThrow(/granted/);
    expect(() =>
      raftPeerMessageSchema.parse({ ...messages[4], config: { voters: [5000], learners: [] } }),
    ).toThrow(/voters/);
  });
});

describe("raftProtocol", () => {
  it("describes Raft: 2f + 1 replicas, shared client schemas", () => {
    expect(raftProtocol.name).toBe("raft");
    expect([0, 1, 2].map((f) => raftProtocol.replicaCount.replicasFor(f))).toEqual([1, 3, 5]);
    expect(raftProtocol.schemas.request).toBe(clientRequestSchema);
    expect(raftProtocol.schemas.response).toBe(clientReplySchema);
  });

  it("rejects bad settings when a replica is created", () => {
    const config = simulatedCluster("raft", 3, 1, { electionTicks: 0 });
    expect(() =>
      raftProtocol.createReplica({
        id: 0,
        config,
        random: createRandom(1),
        crypto: undefined as never,
        durable: { hardState: undefined, snapshot: undefined, entries: [], records: new Map() },
      }),
    ).toThrow(/electionTicks/);
  });

  it("works with the generic leader client unchanged", () => {
    const c = new Cluster({ n: 3 });
    c.elect();
    const client = raftProtocol.createClient({
      clientId: "lc",
      config: c.config,
      random: createRandom(3),
      crypto: undefined as never,
      retryTicks: 10,
    });
    const done: unknown[] = [];
    const route = (outs: ReturnType<typeof client.step>) => {
      for (const o of outs) {
        if (o.type === "send") c.client(o.to, o.msg);
        else done.push(o);
      }
    };
    /** Invokes one operation and drives client and cluster until it is done. */
    const perform = (opId: number, op: ClientOperation) => {
      route(client.step({ type: "invoke", opId, op }));
      for (let round = 0; round < 50 && done.length < opId; round++) {
        c.run(1);
        for (const r of c.replies.splice(0))
          route(client.step({ type: "response", from: r.from, msg: r.msg }));
        route(client.step({ type: "tick", now: round * 10 }));
      }
      return done[opId - 1];
    };
    expect(perform(1, { kind: "command", value: put("k", 5) })).toEqual({
      type: "done",
      opId: 1,
      result: { ok: true, value: 5 },
    });
    expect(perform(2, { kind: "query", value: { get: "k" } })).toEqual({
      type: "done",
      opId: 2,
      result: { ok: true, value: 5 },
    });
  });

  it("reports status for dashboards", () => {
    const c = new Cluster({ n: 3 });
    const l = c.elect();
    expect(c.status(l)).toMatchObject({
      role: "leader",
      leader: l,
      details: { voters: [0, 1, 2], learners: [], vote: l },
    });
    const f = (l + 1) % 3;
    expect(c.status(f)).toMatchObject({ role: "follower", leader: l });
  });
});
