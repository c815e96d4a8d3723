import { describe, expect, it } from "vitest";
import { Cluster, put } from "./harness.js";

function transfer(c: Cluster, at: number, to: number, aid = 1) {
  c.client(at, { type: "admin", client: "op", aid, admin: { op: "transfer", to } });
}

function adminReplies(c: Cluster) {
  return c.repliesTo("op").flatMap((r) => (r.msg.type === "adminReply" ? [r.msg] : []));
}

describe("leadership transfer", () => {
  it("catches the target up, sends TimeoutNow, and the target wins well within an election timeout", () => {
    const c = new Cluster({ n: 3, settings: { electionTicks: 20 } });
    const l = c.elect();
    c.openSession(l, "a");
    const to = (l + 1) % 3;
    // The target is behind.
    c.drop = (m) => m.to === to;
    for (let seq = 1; seq <= 3; seq++) c.command(l, "a", seq, put("k", seq));
    c.drop = undefined;
    transfer(c, l, to);
    const rounds = c.runUntil(() => c.leader() === to, 19);
    expect(rounds).toBeLessThan(10);
    expect(
      c.delivered.some((m) => m.from === l && m.to === to && m.msg.type === "timeoutNow"),
    ).toBe(true);
    expect(adminReplies(c)).toEqual([
      { type: "adminReply", client: "op", aid: 1, result: { ok: true, value: null } },
    ]);
    expect(c.status(l).role).toBe("follower");
    expect(c.command(to, "a", 4, put("k", 4))).toMatchObject({ result: { ok: true, value: 4 } });
  });

  it("takes no new commands while transferring (busy, with the target as hint)", () => {
    const c = new Cluster({ n: 3 });
    const l = c.elect();
    c.openSession(l, "a");
    const to = (l + 1) % 3;
    c.crash(to);
    transfer(c, l, to);
    c.client(l, { type: "request", client: "a", seq: 1, ackedBelow: 1, cmd: put("k", 1) });
    expect(c.repliesTo("a").at(-1)?.msg).toMatchObject({
      type: "reply",
      seq: 1,
      result: { ok: false, error: "busy", leader: to },
    });
  });

  it("gives up after an election timeout when the target does not take over, and leads on", () => {
    const c = new Cluster({ n: 3, settings: { electionTicks: 10 } });
    const l = c.elect();
    c.openSession(l, "a");
    const to = (l + 1) % 3;
    c.crash(to);
    transfer(c, l, to);
    c.run(12);
    expect(adminReplies(c)).toMatchObject([{ aid: 1, result: { ok: false, error: "busy" } }]);
    expect(c.leader()).toBe(l);
    expect(c.command(l, "a", 1, put("k", 1))).toMatchObject({ result: { ok: true } });
  });

  it("refuses a target that is not a voter, and answers a transfer to itself at once", () => {
    const c = new Cluster({ n: 4, settings: { initialVoters: [0, 1, 2] } });
    const l = c.elect();
    transfer(c, l, 3, 1);
    transfer(c, l, l, 2);
    expect(adminReplies(c)).toMatchObject([
      { aid: 1, result: { ok: false, error: "invalid" } },
      { aid: 2, result: { ok: true } },
    ]);
  });
});
