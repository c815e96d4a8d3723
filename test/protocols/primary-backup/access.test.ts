import { describe, expect, it } from "vitest";
import { campaignAndAnswer, makeCore, ofType, persistAll } from "./harness.js";

/** Roles (core/access.ts) in the primary/backup core: checked when the live primary orders. */
describe("primary/backup: access checks", () => {
  const live = () => {
    const core = makeCore(0);
    persistAll(core, campaignAndAnswer(core, 0));
    return core;
  };

  it("refuses a write client's membership request and a revoked client's query `forbidden`", () => {
    const core = live();
    const admin = core.step({
      type: "client",
      client: "app",
      mono: 0,
      access: { role: "write", revoked: false },
      msg: { type: "admin", client: "app", aid: 1, admin: { op: "revoke", client: "other" } },
    });
    expect(ofType(admin, "reply")[0]?.msg).toMatchObject({
      type: "adminReply",
      aid: 1,
      result: { ok: false, error: "forbidden" },
    });
    expect(ofType(admin, "persist")).toEqual([]);
    const query = core.step({
      type: "client",
      client: "gone",
      mono: 0,
      access: { role: "write", revoked: true },
      msg: { type: "query", client: "gone", qid: 4, q: { op: "get", key: "k" } },
    });
    expect(ofType(query, "reply")[0]?.msg).toMatchObject({
      type: "queryReply",
      qid: 4,
      result: { ok: false, error: "forbidden" },
    });
    expect(ofType(query, "query")).toEqual([]);
  });

  it("logs a read client's command as a refusal, without its body", () => {
    const core = live();
    const out = core.step({
      type: "client",
      client: "reader",
      mono: 0,
      access: { role: "read", revoked: false },
      msg: { type: "request", client: "reader", seq: 1, ackedBelow: 1, cmd: { op: "put" } },
    });
    const appended = ofType(out, "persist").flatMap((p) => p.ops);
    expect(appended).toMatchObject([
      {
        type: "append",
        entries: [
          {
            payload: {
              type: "commands",
              commands: [{ client: "reader", seq: 1, cmd: null, forbidden: true }],
            },
          },
        ],
      },
    ]);
  });

  it("logs an admin's access change as its own entry and answers it once applied", () => {
    const core = live();
    const out = core.step({
      type: "client",
      client: "cli",
      mono: 0,
      access: { role: "admin", revoked: false },
      msg: {
        type: "admin",
        client: "cli",
        aid: 7,
        admin: { op: "setRole", client: "app", role: "read" },
      },
    });
    const appended = ofType(out, "persist").flatMap((p) => p.ops);
    expect(appended).toMatchObject([
      { type: "append", entries: [{ payload: { type: "protocol", kind: "access" } }] },
    ]);
    expect(ofType(out, "reply")).toEqual([]);
    const answered = core.step({
      type: "applied",
      upTo: 2,
      results: [],
      admin: [{ index: 2, client: "cli", aid: 7, result: { ok: true, value: null } }],
    });
    expect(ofType(answered, "reply")[0]?.msg).toMatchObject({
      type: "adminReply",
      aid: 7,
      result: { ok: true },
    });
  });
});
