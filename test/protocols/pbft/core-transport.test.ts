import { describe, expect, it } from "vitest";
import { PbftHarness } from "./core-harness.js";

/**
 * PbftCore's handling of lost messages and large requests (see core.test.ts for the harness's
 * lines): retransmission of its own messages, requests sent apart from the PRE-PREPARE and
 * fetched when missing, and full replies from everyone when digest replies are off.
 */
const put = (key: string, value: number) => ({ op: "put", key, value });

describe("PbftCore transport", () => {
  it("a lost PRE-PREPARE is retransmitted every retransmitTicks to replicas whose COMMIT is missing", () => {
    const h = new PbftHarness({
      settings: { checkpointInterval: 8, windowSize: 16, retransmitTicks: 3 },
    });
    h.tick();
    h.client(0, h.request("alice", 0, null));
    // Everything sent to replica 3 is lost.
    h.deliver({ quiet: true, drop: (m) => m.to === 3 });
    expect(h.services.map((s) => s.appliedIndex)).toEqual([1, 1, 1, 0]);
    // Ticks 2 and 3 at the primary: at tick 3 it resends to replica 3 only.
    expect(h.tick([0])).toBe("");
    expect(h.tick([0])).toMatchInlineSnapshot(`
      "0->3 preprepare v=0 s=1 t=1000 [alice#0] inline=1
      0->3 commit v=0 s=1 [alice#0]"
    `);
    expect(h.deliver()).toMatchInlineSnapshot(`
      "0->3 preprepare v=0 s=1 t=1000 [alice#0] inline=1
        3->0 prepare v=0 s=1 [alice#0]
        3->1 prepare v=0 s=1 [alice#0]
        3->2 prepare v=0 s=1 [alice#0]
      0->3 commit v=0 s=1 [alice#0]
      3->0 prepare v=0 s=1 [alice#0]
      3->1 prepare v=0 s=1 [alice#0]
      3->2 prepare v=0 s=1 [alice#0]"
    `);
    // The backups resend theirs at their own tick 3; replica 3 then commits and executes.
    h.tick([1, 2, 3], 2);
    const out = h.deliver().split("\n");
    expect(out.filter((l) => l.includes("3: "))).toMatchInlineSnapshot(`
      [
        "  3: persist#2 put cert/1 v=0 [alice#0] bodies=1",
        "  3: apply s=1 t=1000 seed=2179633191 alice#0",
      ]
    `);
  });

  it("a request above inlineRequestBytes travels on its own; a backup that misses it fetches it", () => {
    const h = new PbftHarness({
      settings: {
        checkpointInterval: 8,
        windowSize: 16,
        inlineRequestBytes: 0,
        retransmitTicks: 2,
      },
    });
    h.tick();
    h.client(0, h.request("alice", 0, null));
    // The body first, then the PRE-PREPARE naming it by digest only.
    expect(h.take()).toBe("");
    const sent = h.network.map((m) => `${m.from}->${m.to} ${h.show(m.msg)}`);
    expect(sent).toMatchInlineSnapshot(`
      [
        "0->1 request alice#0",
        "0->2 request alice#0",
        "0->3 request alice#0",
        "0->1 preprepare v=0 s=1 t=1000 [alice#0]",
        "0->2 preprepare v=0 s=1 t=1000 [alice#0]",
        "0->3 preprepare v=0 s=1 t=1000 [alice#0]",
      ]
    `);
    // Replica 2 loses the body: it asks the primary for it, then prepares.
    h.lose((m) => m.to === 2 && m.msg.type === "request");
    const out = h.deliver().split("\n");
    expect(
      out.filter((l) => /^\s*(0->2|2->0) (request|fetchrequests|prepare)/.test(l)),
    ).toMatchInlineSnapshot(`
        [
          "  2->0 fetchrequests alice#0",
          "2->0 fetchrequests alice#0",
          "  0->2 request alice#0",
          "0->2 request alice#0",
          "  2->0 prepare v=0 s=1 [alice#0]",
          "2->0 prepare v=0 s=1 [alice#0]",
        ]
      `);
    expect(h.services.map((s) => s.appliedIndex)).toEqual([1, 1, 1, 1]);
  });

  it("with digestReplies off every replica sends the full result", () => {
    const h = new PbftHarness({
      settings: { checkpointInterval: 8, windowSize: 16, digestReplies: false },
    });
    h.tick();
    h.client(0, h.request("alice", 0, null));
    h.client(0, h.request("alice", 1, put("x", 3)));
    h.deliver({ quiet: true });
    const replies = h.replies.get("alice")!.filter((r) => r.timestamp === 1);
    expect(
      replies.map((r) => `${r.replica}:${r.full}:${JSON.stringify(r.result)}`).sort(),
    ).toMatchInlineSnapshot(`
        [
          "0:true:{"ok":true,"value":3}",
          "1:true:{"ok":true,"value":3}",
          "2:true:{"ok":true,"value":3}",
          "3:true:{"ok":true,"value":3}",
        ]
      `);
  });
});
