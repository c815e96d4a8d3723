import { describe, expect, it } from "vitest";
import type { AdminOp } from "../../../src/core/client-messages.js";
import type { Membership } from "../../../src/protocols/raft/types.js";
import { Cluster, put } from "./harness.js";

let aid = 0;
function admin(c: Cluster, at: number, op: AdminOp) {
  const id = ++aid;
  c.client(at, { type: "admin", client: "op", aid: id, admin: op });
  return id;
}

function adminReply(c: Cluster, id: number) {
  return c.repliesTo("op").find((r) => r.msg.type === "adminReply" && r.msg.aid === id)?.msg;
}

/** The config entries of a node's log, in order. */
function configs(c: Cluster, id: number): Membership[] {
  return c
    .node(id)
    .disk.build()
    .entries.flatMap((e) => (e.payload.type === "config" ? [e.payload.config as Membership] : []));
}

describe("membership", () => {
  it("replicas in the address book but outside the membership stay passive", () => {
    const c = new Cluster({ n: 5, settings: { initialVoters: [0, 1, 2] } });
    c.elect();
    c.run(200);
    for (const id of [3, 4]) {
      expect(c.status(id)).toMatchObject({ role: "learner", term: 0 });
      expect(c.delivered.some((m) => m.from === id)).toBe(false);
    }
    expect(c.leader()).toBeLessThan(3);
  });

  it("add: the replica joins as a learner, catches up, and is promoted by a second change", () => {
    const c = new Cluster({
      n: 4,
      settings: { initialVoters: [0, 1, 2], learnerCatchUpEntries: 2 },
    });
    const l = c.elect();
    c.openSession(l, "a");
    for (let seq = 1; seq <= 5; seq++) c.command(l, "a", seq, put("k", seq));
    const id = admin(c, l, { op: "add", replica: 3 });
    expect(adminReply(c, id)).toBeUndefined();
    c.runUntil(() => adminReply(c, id) !== undefined);
    expect(adminReply(c, id)).toMatchObject({ result: { ok: true, value: null } });
    expect(configs(c, l)).toEqual([
      { voters: [0, 1, 2], learners: [3] },
      { voters: [0, 1, 2, 3], learners: [] },
    ]);
    c.run(3);
    expect(c.status(3)).toMatchObject({ role: "follower", details: { voters: [0, 1, 2, 3] } });
    expect(c.node(3).service.snapshot()).toEqual(c.node(l).service.snapshot());
    // Asking again is answered at once: already in effect.
    const again = admin(c, l, { op: "add", replica: 3 });
    expect(adminReply(c, again)).toMatchObject({ result: { ok: true } });
  });

  it("a learner is not promoted before it has caught up", () => {
    const c = new Cluster({
      n: 4,
      settings: { initialVoters: [0, 1, 2], learnerCatchUpEntries: 0 },
    });
    const l = c.elect();
    c.crash(3);
    const id = admin(c, l, { op: "add", replica: 3 });
    c.run(30);
    expect(c.status(l).details).toMatchObject({ voters: [0, 1, 2], learners: [3] });
    expect(adminReply(c, id)).toBeUndefined();
    c.restart(3);
    c.runUntil(() => adminReply(c, id) !== undefined);
    expect(c.status(l).details).toMatchObject({ voters: [0, 1, 2, 3], learners: [] });
  });

  it("one change at a time: a second request while one is uncommitted is refused as busy", () => {
    const c = new Cluster({ n: 5, settings: { initialVoters: [0, 1, 2] } });
    const l = c.elect();
    admin(c, l, { op: "add", replica: 3 });
    const second = admin(c, l, { op: "add", replica: 4 });
    expect(adminReply(c, second)).toMatchObject({ result: { ok: false, error: "busy" } });
  });

  it("a config takes effect when appended, before it commits", () => {
    const c = new Cluster({ n: 4, settings: { initialVoters: [0, 1, 2] } });
    const l = c.elect();
    const f = (l + 1) % 3;
    c.drop = (m) => m.msg.type === "appendReply"; // nothing commits
    admin(c, l, { op: "add", replica: 3 });
    c.run(2);
    expect(c.status(f)).toMatchObject({ details: { learners: [3] } });
    expect(configs(c, f)).toEqual([{ voters: [0, 1, 2], learners: [3] }]);
  });

  it("remove: a removed follower is dropped from the membership and stays passive", () => {
    const c = new Cluster({ n: 3 });
    const l = c.elect();
    const victim = (l + 1) % 3;
    const id = admin(c, l, { op: "remove", replica: victim });
    c.runUntil(() => adminReply(c, id) !== undefined);
    expect(adminReply(c, id)).toMatchObject({ result: { ok: true } });
    c.run(100);
    expect(c.status(victim)).toMatchObject({ role: "learner" });
    expect(c.status(l).details).toMatchObject({ voters: [0, 1, 2].filter((x) => x !== victim) });
    expect(c.leader()).toBe(l);
  });

  it("remove the leader: it commits the change without counting itself, then steps down", () => {
    const c = new Cluster({ n: 3 });
    const l = c.elect();
    c.openSession(l, "a");
    const term = c.status(l).term;
    const id = admin(c, l, { op: "remove", replica: l });
    c.runUntil(() => adminReply(c, id) !== undefined);
    expect(adminReply(c, id)).toMatchObject({ result: { ok: true } });
    c.runUntil(() => c.leader() !== undefined && c.leader() !== l);
    const fresh = c.leader()!;
    expect(c.status(fresh).term).toBeGreaterThan(term);
    expect(c.status(l).role).toBe("learner");
    expect(c.status(fresh).details).toMatchObject({ voters: [0, 1, 2].filter((x) => x !== l) });
    c.openSession(fresh, "b");
    expect(c.command(fresh, "b", 1, put("k", 1))).toMatchObject({ result: { ok: true } });
  });

  it("refuses on followers, for replicas outside the address book, and removing the last voter", () => {
    const c = new Cluster({ n: 3, settings: { initialVoters: [0] } });
    const l = c.elect();
    expect(l).toBe(0);
    const a = admin(c, 1, { op: "add", replica: 2 });
    expect(adminReply(c, a)).toMatchObject({ result: { ok: false, error: "not-leader" } });
    const b = admin(c, l, { op: "add", replica: 7 });
    expect(adminReply(c, b)).toMatchObject({ result: { ok: false, error: "invalid" } });
    const d = admin(c, l, { op: "remove", replica: 0 });
    expect(adminReply(c, d)).toMatchObject({ result: { ok: false, error: "invalid" } });
    const e = admin(c, l, { op: "remove", replica: 2 });
    expect(adminReply(c, e)).toMatchObject({ result: { ok: true } }); // not a member: already done
  });

  it("a leader removed before committing its removal can still be elected to finish it", () => {
    // Two voters; leader 0 removes itself but crashes before 1 gets the entry.
    const c = new Cluster({ n: 2, settings: { initialVoters: [0, 1] } });
    const l = c.elect();
    const other = 1 - l;
    c.drop = (m) => m.from === l && m.msg.type === "append" && m.msg.entries.length > 0;
    admin(c, l, { op: "remove", replica: l });
    c.run(1);
    c.crash(l);
    c.restart(l);
    c.drop = undefined;
    // l's log says it is no voter; other's log still needs l's vote, which l refuses (its log is newer).
    c.runUntil(() => c.status(other).details !== undefined && c.leader() === other, 300);
    expect(c.status(other).details).toMatchObject({ voters: [other], learners: [] });
  });
});
