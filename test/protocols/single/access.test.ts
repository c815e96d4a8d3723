import { describe, expect, it } from "vitest";
import type { ClientAccess } from "../../../src/core/access.js";
import type { ClientRequestMessage } from "../../../src/core/client-messages.js";
import { simulatedCluster } from "../../../src/core/config.js";
import { createRandom } from "../../../src/core/prng.js";
import { emptyDurableState } from "../../../src/core/protocol.js";
import { NodeCrypto } from "../../../src/platform/node-crypto.js";
import { singleProtocol } from "../../../src/protocols/single/index.js";

const crypto = new NodeCrypto({ self: "r0", macKeys: new Map(), verifyKeys: new Map() });

function core() {
  return singleProtocol.createReplica({
    id: 0,
    config: simulatedCluster("single", 1, 0),
    random: createRandom(1),
    crypto,
    durable: emptyDurableState,
  });
}

const reader: ClientAccess = { role: "read", revoked: false };
const writer: ClientAccess = { role: "write", revoked: false };
const admin: ClientAccess = { role: "admin", revoked: false };

function send(c: ReturnType<typeof core>, msg: ClientRequestMessage, access: ClientAccess) {
  return c.step({ type: "client", client: msg.client, msg, mono: 0, access });
}

describe("single: client roles", () => {
  it("orders a read-only client's command as a refusal: logged without its body, marked forbidden", () => {
    const c = core();
    const out = send(
      c,
      {
        type: "request",
        client: "v",
        seq: 1,
        ackedBelow: 1,
        cmd: { op: "put", key: "k", value: "x" },
      },
      reader,
    );
    expect(out).toMatchObject([
      {
        type: "persist",
        ops: [
          {
            type: "append",
            entries: [
              {
                payload: {
                  type: "commands",
                  commands: [{ client: "v", seq: 1, ackedBelow: 1, cmd: null, forbidden: true }],
                },
              },
            ],
          },
        ],
      },
    ]);
    // A writer's command is logged as it is.
    const w = send(
      c,
      { type: "request", client: "w", seq: 1, ackedBelow: 1, cmd: { op: "del", key: "k" } },
      writer,
    );
    expect(w).toMatchObject([
      {
        ops: [
          {
            entries: [{ payload: { commands: [{ client: "w", cmd: { op: "del", key: "k" } }] } }],
          },
        ],
      },
    ]);
    expect(JSON.stringify(w)).not.toContain("forbidden");
  });

  it("refuses every request of a revoked client, queries included", () => {
    const c = core();
    const out = send(
      c,
      { type: "query", client: "v", qid: 4, q: null },
      { ...admin, revoked: true },
    );
    expect(out).toMatchObject([
      { type: "reply", msg: { type: "queryReply", qid: 4, result: { error: "forbidden" } } },
    ]);
  });

  it("logs an admin's access change as an access entry and answers it when applied", () => {
    const c = core();
    const denied = send(
      c,
      { type: "admin", client: "w", aid: 1, admin: { op: "revoke", client: "v" } },
      writer,
    );
    expect(denied).toMatchObject([{ msg: { type: "adminReply", result: { error: "forbidden" } } }]);
    const out = send(
      c,
      { type: "admin", client: "op", aid: 2, admin: { op: "revoke", client: "v" } },
      admin,
    );
    expect(out).toMatchObject([
      {
        type: "persist",
        ops: [
          {
            type: "append",
            entries: [
              {
                index: 1,
                payload: {
                  type: "protocol",
                  kind: "access",
                  body: { by: "op", aid: 2, change: { op: "revoke", client: "v" } },
                },
              },
            ],
          },
        ],
      },
    ]);
    c.step({ type: "persisted", upTo: 1 });
    const answered = c.step({
      type: "applied",
      upTo: 1,
      results: [],
      admin: [{ index: 1, client: "op", aid: 2, result: { ok: true, value: null } }],
    });
    expect(answered).toMatchObject([
      { type: "reply", msg: { type: "adminReply", aid: 2, result: { ok: true } } },
    ]);
  });
});
