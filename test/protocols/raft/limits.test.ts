import { describe, expect, it } from "vitest";
import { limits } from "../../../src/core/limits.js";
import type { SnapshotChunk } from "../../../src/protocols/raft/messages.js";
import { Cluster, peer, sends, soloCore } from "./harness.js";

// Every Raft queue has a bound with a defined answer when full (src/core/limits.ts).

function chunk(offset: number, data: Uint8Array, total: number, done: boolean): SnapshotChunk {
  return {
    type: "snapshot",
    term: 1,
    index: 5,
    snapTerm: 1,
    config: { voters: [0, 1, 2], learners: [] },
    time: 0,
    total,
    offset,
    data,
    done,
  };
}

describe("bounded queues", () => {
  it("a snapshot declaring more than the byte limit is refused and counted, nothing allocated", () => {
    const core = soloCore(1, 3);
    const out = core.step(peer(0, chunk(0, new Uint8Array(4), 2 ** 40, false)));
    expect(sends(out).map((s) => s.msg)).toEqual([
      { type: "snapshotReply", term: 1, index: 5, received: 0, done: false },
    ]);
    expect(core.status().details).toMatchObject({ refusedSnapshotChunks: 1 });
    core.assertInvariants();
  });

  it("many small chunks are joined when the pieces reach their bound; the install gets every byte", () => {
    const core = soloCore(1, 3);
    const pieces = limits.raftMaxSnapshotPieces + 10;
    let installed: Uint8Array | undefined;
    for (let i = 0; i < pieces; i++) {
      const out = core.step(
        peer(0, chunk(i, new Uint8Array([i & 0xff]), pieces, i === pieces - 1)),
      );
      core.assertInvariants();
      for (const o of out) if (o.type === "installSnapshot") installed = o.data;
    }
    expect(installed?.length).toBe(pieces);
    expect([...installed!].every((b, i) => b === (i & 0xff))).toBe(true);
  });

  it("clients waiting on one leadership transfer are bounded; one more is told busy", () => {
    const c = new Cluster({ n: 3 });
    const l = c.elect();
    const to = (l + 1) % 3;
    c.crash(to); // the transfer cannot finish: every request waits on it
    for (let aid = 1; aid <= limits.raftMaxTransferWaiters + 1; aid++) {
      c.client(l, { type: "admin", client: "op", aid, admin: { op: "transfer", to } });
    }
    const answers = c.repliesTo("op").flatMap((r) => (r.msg.type === "adminReply" ? [r.msg] : []));
    expect(answers).toEqual([
      {
        type: "adminReply",
        client: "op",
        aid: limits.raftMaxTransferWaiters + 1,
        result: { ok: false, error: "busy", message: "too many clients waiting on this transfer" },
      },
    ]);
  });

  it("lease reads count toward maxPendingRequests until the driver reports them done", () => {
    const c = new Cluster({ n: 3, settings: { leaseReads: true, maxPendingRequests: 2 } });
    const l = c.elect();
    c.run(3);
    // Let the driver hold the queries: the service is behind the read index.
    const node = c.node(l);
    const step = node.core.step.bind(node.core);
    const held: unknown[] = [];
    node.core.step = (input) => {
      const out = step(input);
      return out.filter((o) => {
        if (o.type !== "query") return true;
        held.push(o);
        return false;
      });
    };
    for (let qid = 1; qid <= 3; qid++)
      c.client(l, { type: "query", client: "r", qid, q: { get: "k" } });
    expect(held).toHaveLength(2);
    const replies = c.repliesTo("r").map((r) => r.msg);
    expect(replies).toEqual([
      {
        type: "queryReply",
        client: "r",
        qid: 3,
        result: { ok: false, error: "busy", message: "too many reads waiting" },
      },
    ]);
  });
});
