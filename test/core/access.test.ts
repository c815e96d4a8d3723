import { describe, expect, it } from "vitest";
import {
  type AccessPolicy,
  AccessTable,
  accessPayload,
  accessRefusal,
  forbiddenCommand,
} from "../../src/core/access.js";
import { validateClusterConfig } from "../../src/core/config.js";
import type { EntryPayload, LogEntry, LoggedCommand } from "../../src/core/log-entry.js";
import { ReplicatedService } from "../../src/core/replicated-service.js";
import { createMachine } from "../../src/core/state-machine.js";
import { encode } from "../../src/platform/codec.js";
import { kvService } from "../../src/state-machines/kv/index.js";

const policy: AccessPolicy = { defaultRole: "write", roles: { op: "admin", viewer: "read" } };

let index = 0;
function entry(payload: EntryPayload): LogEntry {
  return { index: ++index, term: 1, time: 1000 + index, seed: 0, payload };
}
function commands(...cs: LoggedCommand[]): EntryPayload {
  return { type: "commands", commands: cs };
}
const open = (client: string): LoggedCommand => ({ client, seq: 0, ackedBelow: 0, cmd: null });
const put = (client: string, seq: number, key: string): LoggedCommand => ({
  client,
  seq,
  ackedBelow: seq,
  cmd: { op: "put", key, value: "v" },
});

function fresh(): ReplicatedService {
  index = 0;
  return new ReplicatedService(kvService, undefined, policy);
}

describe("access table", () => {
  it("a session gets the least role of its principal and of longer prefixes with roles", () => {
    const t = new AccessTable({ defaultRole: "write", roles: { cli: "admin", "app.x": "admin" } });
    expect(t.accessOf("cli.0a1b2c3d4e5f")).toEqual({ role: "admin", revoked: false });
    // app has the default (write): its key speaking for app.x sessions gains nothing.
    expect(t.accessOf("app.x.123")).toEqual({ role: "write", revoked: false });
    expect(t.accessOf("nobody")).toEqual({ role: "write", revoked: false });
  });

  it("refusals at ordering time name the role needed", () => {
    const t = new AccessTable(policy);
    const reply = accessRefusal(
      { type: "admin", client: "app", aid: 3, admin: { op: "remove", replica: 1 } },
      t.accessOf("app"),
    );
    expect(reply).toEqual({
      type: "adminReply",
      client: "app",
      aid: 3,
      result: {
        ok: false,
        error: "forbidden",
        message: "client app has role write; this request needs admin",
      },
    });
    expect(
      accessRefusal({ type: "query", client: "viewer", qid: 1, q: null }, t.accessOf("viewer")),
    ).toBeUndefined();
    // Commands are never refused outright: they are ordered as refusals (see accessRefusal).
    const cmd = { type: "request" as const, client: "viewer", seq: 1, ackedBelow: 1, cmd: null };
    expect(accessRefusal(cmd, t.accessOf("viewer"))).toBeUndefined();
    expect(forbiddenCommand(cmd, t.accessOf("viewer"))).toBe(true);
    expect(forbiddenCommand({ ...cmd, client: "app" }, t.accessOf("app"))).toBe(false);
  });
});

describe("replicated service: access checked again at apply", () => {
  it("a command logged after its client's revocation is refused, recorded, and has no effect", () => {
    const s = fresh();
    s.applyEntry(entry(commands(open("app"))));
    s.applyEntry(
      entry(accessPayload({ by: "op", aid: 1, change: { op: "revoke", client: "app" } })),
    );
    expect(s.takeAdminResults()).toEqual([
      { index: 2, client: "op", aid: 1, result: { ok: true, value: null } },
    ]);
    const [r] = s.applyEntry(entry(commands(put("app", 1, "k"))));
    expect(r!.result).toMatchObject({ ok: false, error: "forbidden" });
    expect(s.query({ op: "get", key: "k" })).toEqual({
      ok: true,
      value: { ok: true, value: null },
    });
    // The refusal is the recorded result: a retry gets it again and does not execute.
    const [again] = s.applyEntry(entry(commands(put("app", 1, "k"))));
    expect(again!.result).toEqual(r!.result);
    expect(s.queryAs("app", { op: "get", key: "k" })).toMatchObject({ error: "forbidden" });
  });

  it("a command ordered as a refusal never runs, even if the client may write at its index; copies get the same answer", () => {
    const s = fresh();
    s.applyEntry(entry(commands(open("app"))));
    const marker: LoggedCommand = {
      client: "app",
      seq: 1,
      ackedBelow: 1,
      cmd: null,
      forbidden: true,
    };
    const [r] = s.applyEntry(entry(commands(marker)));
    expect(r!.result).toMatchObject({ ok: false, error: "forbidden" });
    // A copy of the real command (a retry, a delayed duplicate) gets the recorded refusal.
    const [copy] = s.applyEntry(entry(commands(put("app", 1, "k"))));
    expect(copy!.result).toEqual(r!.result);
    expect(s.query({ op: "get", key: "k" })).toEqual({
      ok: true,
      value: { ok: true, value: null },
    });
  });

  it("an access change from a client that is not admin at its index changes nothing", () => {
    const s = fresh();
    s.applyEntry(
      entry(
        accessPayload({ by: "op", aid: 1, change: { op: "setRole", client: "op", role: "read" } }),
      ),
    );
    // op demoted itself; its next change, ordered before that, is refused at apply.
    s.applyEntry(
      entry(accessPayload({ by: "op", aid: 2, change: { op: "revoke", client: "viewer" } })),
    );
    const results = s.takeAdminResults();
    expect(results[1]!.result).toMatchObject({ ok: false, error: "forbidden" });
    expect(s.accessOf("viewer").revoked).toBe(false);
  });

  it("an access change that is a session command (PBFT) runs once, however often it is ordered", () => {
    const s = fresh();
    s.applyEntry(entry(commands(open("op"))));
    const demote = accessPayload({
      by: "op",
      aid: 1,
      ackedBelow: 1,
      change: { op: "setRole", client: "alice", role: "read" },
    });
    const promote = accessPayload({
      by: "op",
      aid: 2,
      ackedBelow: 1,
      change: { op: "setRole", client: "alice", role: "write" },
    });
    s.applyEntry(entry(demote));
    s.applyEntry(entry(promote));
    // A retry of the first change, ordered again after the second: answered from the session,
    // not applied again (alice stays a writer).
    s.applyEntry(entry(demote));
    expect(s.accessOf("alice").role).toBe("write");
    const results = s.takeAdminResults().map((r) => [r.aid, r.result.ok]);
    expect(results).toEqual([
      [1, true],
      [2, true],
      [1, true],
    ]);
    // Without a session the change is refused like any command of an unknown session.
    const t = fresh();
    t.applyEntry(entry(demote));
    expect(t.takeAdminResults()[0]!.result).toMatchObject({ ok: false, error: "session-expired" });
    expect(t.accessOf("alice").role).toBe("write");
  });

  it("setDefaultRole changes the role of every client without its own, in order and in snapshots", () => {
    const s = fresh();
    expect(s.accessOf("app")).toEqual({ role: "write", revoked: false });
    // A writer may not change the default: refused at apply, nothing changes.
    s.applyEntry(
      entry(accessPayload({ by: "app", aid: 1, change: { op: "setDefaultRole", role: "admin" } })),
    );
    expect(s.takeAdminResults()[0]!.result).toMatchObject({ ok: false, error: "forbidden" });
    expect(s.accessOf("app").role).toBe("write");
    s.applyEntry(
      entry(accessPayload({ by: "op", aid: 2, change: { op: "setDefaultRole", role: "read" } })),
    );
    expect(s.takeAdminResults()[0]!.result).toEqual({ ok: true, value: null });
    expect(s.accessOf("app")).toEqual({ role: "read", revoked: false });
    expect(s.accessOf("app.0123456789ab").role).toBe("read");
    // Clients with a role of their own keep it.
    expect(s.accessOf("op").role).toBe("admin");
    expect(s.access.defaultRole).toBe("read");
    const copy = new ReplicatedService(kvService, undefined, policy);
    copy.restore(s.snapshot());
    expect(copy.accessOf("app").role).toBe("read");
    expect(copy.snapshot()).toEqual(s.snapshot());
    // Back to the configured default: the snapshot's table has the older (array) form again.
    s.applyEntry(
      entry(accessPayload({ by: "op", aid: 3, change: { op: "setDefaultRole", role: "write" } })),
    );
    expect(Array.isArray(s.access.toValue())).toBe(true);
  });

  it("rotate keeps the last retired key versions (for the handshake's RETIRED answer), in snapshots", () => {
    const s = fresh();
    let aid = 10;
    const rotate = (version: number) =>
      s.applyEntry(
        entry(
          accessPayload({ by: "op", aid: ++aid, change: { op: "rotate", client: "app", version } }),
        ),
      );
    rotate(5);
    rotate(5); // a retry: nothing new retired
    rotate(7);
    expect(s.access.retiredKeyVersions("app")).toEqual([5, 0]);
    for (const v of [8, 9, 10, 11]) rotate(v);
    expect(s.access.retiredKeyVersions("app")).toEqual([10, 9, 8, 7]);
    expect(s.access.retiredKeyVersions("other")).toEqual([]);
    const copy = new ReplicatedService(kvService, undefined, policy);
    copy.restore(s.snapshot());
    expect(copy.access.retiredKeyVersions("app")).toEqual([10, 9, 8, 7]);
    expect(copy.access.keyVersion("app")).toBe(11);
    // A row from before retired versions were kept (four fields) restores with none.
    const old = new ReplicatedService(kvService, undefined, policy);
    old.restore(encode([0, [], createMachine(kvService).snapshot(), 0, [["app", null, false, 5]]]));
    expect(old.access.keyVersion("app")).toBe(5);
    expect(old.access.retiredKeyVersions("app")).toEqual([]);
  });

  it("snapshots carry the access table; older snapshots start from the configured roles", () => {
    const s = fresh();
    s.applyEntry(
      entry(
        accessPayload({ by: "op", aid: 1, change: { op: "rotate", client: "app", version: 9 } }),
      ),
    );
    s.applyEntry(entry(accessPayload({ by: "op", aid: 2, change: { op: "revoke", client: "x" } })));
    const copy = new ReplicatedService(kvService, undefined, policy);
    copy.restore(s.snapshot());
    expect(copy.access.keyVersion("app")).toBe(9);
    expect(copy.accessOf("x").revoked).toBe(true);
    expect(copy.snapshot()).toEqual(s.snapshot());
    // A four-field snapshot from before roles.
    const old = new ReplicatedService(kvService, undefined, policy);
    old.restore(encode([0, [], createMachine(kvService).snapshot(), 0]));
    expect(old.accessOf("viewer")).toEqual({ role: "read", revoked: false });
  });
});

describe("configuration: clients", () => {
  const base = { protocol: "raft", f: 0, replicas: [{ id: 0 }] };
  it("reads roles and refuses bad ones by name", () => {
    const config = validateClusterConfig({
      ...base,
      clients: { defaultRole: "read", roles: { cli: "admin" } },
    });
    expect(config.clients).toEqual({ defaultRole: "read", roles: { cli: "admin" } });
    expect(() =>
      validateClusterConfig({ ...base, clients: { defaultRole: "root", roles: { a: "god" } } }),
    ).toThrow(/clients.defaultRole: expected one of read, write, admin.*clients.roles.a/);
  });
});
