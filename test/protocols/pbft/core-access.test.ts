import { describe, expect, it } from "vitest";
import { PbftHarness } from "./core-harness.js";

/**
 * Roles (core/access.ts) in PBFT: a read-only query is answered by each replica on its own, so each
 * checks it against its applied access state before answering; commands and ordered queries are
 * refused where they execute (ReplicatedService), at every correct replica alike.
 */
describe("PbftCore access checks", () => {
  it("answers a revoked client's read-only query `forbidden` without running it", () => {
    const h = new PbftHarness({ settings: { checkpointInterval: 4, windowSize: 8 } });
    h.tick();
    const q = h.request("alice", 1, { get: "x" }, { readOnly: true });
    h.step(1, {
      type: "client",
      client: "alice",
      msg: q,
      mono: 0,
      access: { role: "write", revoked: true },
    });
    const refused = h.take();
    expect(refused).toContain("1=>alice reply v=0 ts=1 full");
    expect(refused).toContain('"error":"forbidden"');
    expect(refused).not.toContain("query");
    // The same query from a client whose access allows reads runs as a query output.
    h.step(1, {
      type: "client",
      client: "alice",
      msg: q,
      mono: 0,
      access: { role: "read", revoked: false },
    });
    expect(h.take()).toContain("1: query alice");
  });
});
