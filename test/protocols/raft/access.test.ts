import { describe, expect, it } from "vitest";
import type { AccessPolicy } from "../../../src/core/access.js";
import type { AdminOp, ClientReplyMessage } from "../../../src/core/client-messages.js";
import type { Membership } from "../../../src/protocols/raft/types.js";
import { Cluster, put } from "./harness.js";

/** `op` administers, `app` writes (the default), `viewer` only reads. */
const policy: AccessPolicy = { defaultRole: "write", roles: { op: "admin", viewer: "read" } };

let aid = 0;
function admin(c: Cluster, at: number, client: string, op: AdminOp): ClientReplyMessage {
  const id = ++aid;
  c.client(at, { type: "admin", client, aid: id, admin: op });
  const find = () =>
    c.repliesTo(client).find((r) => r.msg.type === "adminReply" && r.msg.aid === id)?.msg;
  c.runUntil(() => find() !== undefined);
  return find()!;
}

function configs(c: Cluster, id: number): Membership[] {
  return c
    .node(id)
    .disk.build()
    .entries.flatMap((e) => (e.payload.type === "config" ? [e.payload.config as Membership] : []));
}

const ok = (value: unknown) => ({ ok: true, value });

function errorOf(msg: ClientReplyMessage): string | undefined {
  return msg.result.ok ? undefined : msg.result.error;
}

describe("raft: client roles", () => {
  it("refuses an ordinary client's remove with forbidden and logs nothing; an admin's succeeds", () => {
    const c = new Cluster({ n: 3, access: policy });
    const l = c.elect();
    const lastBefore = c.status(l).lastIndex;
    const refused = admin(c, l, "app", { op: "remove", replica: (l + 1) % 3 });
    expect(refused.result).toMatchObject({ ok: false, error: "forbidden" });
    expect(c.status(l).lastIndex).toBe(lastBefore);
    expect(configs(c, l)).toEqual([]);
    const done = admin(c, l, "op", { op: "remove", replica: (l + 1) % 3 });
    expect(done.result).toMatchObject({ ok: true });
    expect(configs(c, l).length).toBe(1);
  });

  it("a read-only client may query but not write; transfer needs admin", () => {
    const c = new Cluster({ n: 3, access: policy });
    const l = c.elect();
    c.openSession(l, "viewer");
    expect(errorOf(c.command(l, "viewer", 1, put("k", 1)))).toBe("forbidden");
    const transfer = admin(c, l, "app", { op: "transfer", to: (l + 1) % 3 });
    expect(errorOf(transfer)).toBe("forbidden");
    c.openSession(l, "app");
    expect(c.command(l, "app", 1, put("k", 7)).result).toMatchObject({ ok: true });
    c.client(l, { type: "query", client: "viewer", qid: 1, q: { get: "k" } });
    c.runUntil(() => c.repliesTo("viewer").some((r) => r.msg.type === "queryReply"));
    const q = c.repliesTo("viewer").find((r) => r.msg.type === "queryReply")!.msg;
    expect(q.result).toEqual({ ok: true, value: 7 });
  });

  it("setRole is ordered: every replica applies it, and the new role holds from then on", () => {
    const c = new Cluster({ n: 3, access: policy });
    const l = c.elect();
    expect(admin(c, l, "op", { op: "setRole", client: "app", role: "admin" }).result).toEqual({
      ok: true,
      value: null,
    });
    c.run(5);
    for (const id of [0, 1, 2])
      expect(c.node(id).service.accessOf("app")).toEqual({ role: "admin", revoked: false });
    // Sessions of app (app.<suffix>) get the role of app.
    expect(c.node(l).service.accessOf("app.1f2e")).toEqual({ role: "admin", revoked: false });
    // A non-admin may not change roles: refused when ordered, nothing logged.
    const before = c.status(l).lastIndex;
    const denied = admin(c, l, "viewer", { op: "setRole", client: "viewer", role: "admin" });
    expect(errorOf(denied)).toBe("forbidden");
    expect(c.status(l).lastIndex).toBe(before);
  });

  it("revocation holds on every replica, after a leader change and after a restart from a snapshot", () => {
    const c = new Cluster({ n: 3, access: policy, settings: { snapshotEvery: 4 } });
    let l = c.elect();
    c.openSession(l, "app");
    expect(c.command(l, "app", 1, put("a", 1)).result).toMatchObject({ ok: true });
    expect(admin(c, l, "op", { op: "revoke", client: "app" }).result).toMatchObject({ ok: true });
    expect(errorOf(c.command(l, "app", 2, put("a", 2)))).toBe("forbidden");
    c.run(5);
    for (const id of [0, 1, 2]) expect(c.node(id).service.accessOf("app").revoked).toBe(true);

    // A new leader refuses it too.
    c.isolate(l);
    c.runUntil(() => {
      const next = c.leader();
      return next !== undefined && next !== l;
    });
    const old = l;
    l = c.leader()!;
    expect(errorOf(c.command(l, "app", 3, put("a", 3)))).toBe("forbidden");
    c.heal();

    // Enough entries for snapshots everywhere, then every replica restarts from its snapshot.
    c.openSession(l, "other");
    for (let seq = 1; seq <= 10; seq++) c.command(l, "other", seq, put("b", seq));
    c.run(20);
    for (const id of [0, 1, 2]) {
      expect(c.node(id).disk.build().snapshot).toBeDefined();
      c.restart(id);
    }
    l = c.elect();
    for (const id of [0, 1, 2]) expect(c.node(id).service.accessOf("app").revoked).toBe(true);
    expect(errorOf(c.command(l, "app", 4, put("a", 4)))).toBe("forbidden");
    expect(c.node(old).service.accessOf("op").revoked).toBe(false);
  });

  it("rotate clears a revocation and records the new key version on every replica", () => {
    const c = new Cluster({ n: 3, access: policy });
    const l = c.elect();
    admin(c, l, "op", { op: "revoke", client: "app" });
    expect(admin(c, l, "op", { op: "rotate", client: "app", version: 5 }).result).toMatchObject({
      ok: true,
    });
    // A retry of the same rotation succeeds again; an older version is refused.
    expect(admin(c, l, "op", { op: "rotate", client: "app", version: 5 }).result.ok).toBe(true);
    expect(errorOf(admin(c, l, "op", { op: "rotate", client: "app", version: 4 }))).toBe("invalid");
    c.run(5);
    for (const id of [0, 1, 2]) {
      expect(c.node(id).service.access.keyVersion("app")).toBe(5);
      expect(c.node(id).service.accessOf("app").revoked).toBe(false);
    }
  });

  it("a command the client may not make is ordered as a refusal and answered once applied", () => {
    const c = new Cluster({ n: 3, access: policy });
    const l = c.elect();
    c.openSession(l, "app");
    c.openSession(l, "other");
    admin(c, l, "op", { op: "setRole", client: "app", role: "read" });
    // Cut the leader off: what it appends now stays uncommitted and unapplied.
    c.drop = (m) => m.from === l;
    c.client(l, { type: "request", client: "other", seq: 1, ackedBelow: 1, cmd: put("o", 1) });
    const last = c.status(l).lastIndex;
    c.client(l, { type: "request", client: "app", seq: 1, ackedBelow: 1, cmd: put("a", 1) });
    c.run(2);
    // Not answered at once (another copy of it could run elsewhere): logged, as a refusal.
    expect(c.repliesTo("app").some((r) => r.msg.type === "reply" && r.msg.seq === 1)).toBe(false);
    expect(c.status(l).lastIndex).toBeGreaterThan(last);
    c.drop = undefined;
    c.runUntil(() => c.repliesTo("app").some((r) => r.msg.type === "reply" && r.msg.seq === 1));
    const reply = c.repliesTo("app").find((r) => r.msg.type === "reply" && r.msg.seq === 1)!.msg;
    expect(errorOf(reply)).toBe("forbidden");
    // Refused when applied, on every replica: the key was never written.
    c.run(5);
    for (const id of [0, 1, 2]) expect(c.node(id).service.query({ get: "a" })).toEqual(ok(null));
    expect(c.node(l).service.query({ get: "o" })).toEqual(ok(1));
  });

  it("a membership change whose asker was demoted by an earlier entry never takes effect", () => {
    const c = new Cluster({
      n: 3,
      access: { ...policy, roles: { ...policy.roles, op2: "admin" } },
    });
    const l = c.elect();
    const target = (l + 1) % 3;
    const before = c.status(l).lastIndex;
    // Cut the leader off so that both requests are in its log before either is applied.
    c.drop = (m) => m.from === l;
    c.client(l, {
      type: "admin",
      client: "op",
      aid: 901,
      admin: { op: "setRole", client: "op2", role: "write" },
    });
    c.client(l, {
      type: "admin",
      client: "op2",
      aid: 902,
      admin: { op: "remove", replica: target },
    });
    c.run(2);
    // Both were ordered: op2 was still admin in the applied state the leader checked.
    expect(c.status(l).lastIndex).toBe(before + 2);
    expect(c.node(l).service.appliedIndex).toBeLessThanOrEqual(before);
    c.drop = undefined;
    const reply = () =>
      c.repliesTo("op2").find((r) => r.msg.type === "adminReply" && r.msg.aid === 902)?.msg;
    c.runUntil(() => reply() !== undefined);
    expect(reply()!.result).toMatchObject({ ok: false, error: "forbidden" });
    c.run(10);
    for (const id of [0, 1, 2]) {
      expect(configs(c, id)).toEqual([]);
      expect(c.node(id).service.accessOf("op2").role).toBe("write");
    }
    expect((c.status(l).details as { voters?: unknown }).voters).toEqual([0, 1, 2]);
  });

  it("a leadership transfer whose asker was revoked by an earlier entry never starts", () => {
    const c = new Cluster({
      n: 3,
      access: { ...policy, roles: { ...policy.roles, op2: "admin" } },
    });
    const l = c.elect();
    const term = c.status(l).term;
    c.drop = (m) => m.from === l;
    c.client(l, { type: "admin", client: "op", aid: 911, admin: { op: "revoke", client: "op2" } });
    c.client(l, {
      type: "admin",
      client: "op2",
      aid: 912,
      admin: { op: "transfer", to: (l + 1) % 3 },
    });
    c.run(2);
    c.drop = undefined;
    const reply = () =>
      c.repliesTo("op2").find((r) => r.msg.type === "adminReply" && r.msg.aid === 912)?.msg;
    c.runUntil(() => reply() !== undefined);
    expect(reply()!.result).toMatchObject({ ok: false, error: "forbidden" });
    c.run(20);
    expect(c.leader()).toBe(l);
    expect(c.status(l).term).toBe(term);
  });
});
