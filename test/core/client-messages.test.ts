import { describe, expect, it } from "vitest";
import {
  adminOpSchema,
  clientReplySchema,
  clientRequestSchema,
  replyResultSchema,
} from "../../src/core/client-messages.js";
import { commandCount, type LogEntry, logEntrySchema } from "../../src/core/log-entry.js";
import { SchemaError } from "../../src/core/schema.js";

function pathOf(parse: () => unknown): string {
  try {
    parse();
  } catch (error) {
    expect(error).toBeInstanceOf(SchemaError);
    return (error as SchemaError).path;
  }
  throw new Error("expected a SchemaError");
}

describe("client message schemas", () => {
  it("accept well-formed requests", () => {
    const good = [
      { type: "request", client: "c", seq: 0, ackedBelow: 0, cmd: null },
      {
        type: "request",
        client: "c",
        seq: 5,
        ackedBelow: 3,
        cmd: { op: "put", key: "k", value: "v" },
      },
      { type: "query", client: "c", qid: 1, q: [1, "x"] },
      { type: "admin", client: "c", aid: 2, admin: { op: "transfer", to: 1 } },
      { type: "admin", client: "c", aid: 2, admin: { op: "remove", replica: 1023 } },
    ];
    for (const m of good) expect(clientRequestSchema.parse(m)).toBe(m);
  });

  it("reject malformed requests at the bad field", () => {
    expect(
      pathOf(() =>
        clientRequestSchema.parse({
          type: "request",
          client: "c",
          seq: -1,
          ackedBelow: 0,
          cmd: null,
        }),
      ),
    ).toBe("seq");
    expect(
      pathOf(() =>
        clientRequestSchema.parse({
          type: "request",
          client: "x".repeat(65),
          seq: 1,
          ackedBelow: 0,
          cmd: null,
        }),
      ),
    ).toBe("client");
    expect(
      pathOf(() =>
        clientRequestSchema.parse({ type: "request", client: "c", seq: 1, ackedBelow: 0 }),
      ),
    ).toBe("cmd");
    expect(
      pathOf(() =>
        clientRequestSchema.parse({ type: "query", client: "c", qid: 1, q: { a: Number.NaN } }),
      ),
    ).toBe("q.a");
    expect(
      pathOf(() =>
        clientRequestSchema.parse({
          type: "admin",
          client: "c",
          aid: 1,
          admin: { op: "transfer", replica: 1 },
        }),
      ),
    ).toBe("admin.to");
    expect(
      pathOf(() =>
        clientRequestSchema.parse({
          type: "admin",
          client: "c",
          aid: 1,
          admin: { op: "add", replica: 1024 },
        }),
      ),
    ).toBe("admin.replica");
    expect(
      pathOf(() =>
        clientRequestSchema.parse({
          type: "reply",
          client: "c",
          seq: 1,
          result: { ok: true, value: 1 },
        }),
      ),
    ).toBe("type");
  });

  it("accept well-formed replies and reject malformed results", () => {
    expect(
      clientReplySchema.parse({
        type: "reply",
        client: "c",
        seq: 1,
        result: { ok: false, error: "not-leader", leader: 2 },
      }),
    ).toBeTruthy();
    expect(
      clientReplySchema.parse({
        type: "queryReply",
        client: "c",
        qid: 1,
        result: { ok: true, value: null },
      }),
    ).toBeTruthy();
    expect(
      pathOf(() =>
        clientReplySchema.parse({
          type: "reply",
          client: "c",
          seq: 1,
          result: { ok: false, error: "oops" },
        }),
      ),
    ).toBe("result.error");
    expect(
      pathOf(() =>
        clientReplySchema.parse({ type: "reply", client: "c", seq: 1, result: { ok: true } }),
      ),
    ).toBe("result.value");
    expect(pathOf(() => replyResultSchema.parse({ ok: true, value: 1, error: "stale" }))).toBe(
      "error",
    );
    expect(pathOf(() => replyResultSchema.parse({ ok: false, error: "busy", leader: -1 }))).toBe(
      "leader",
    );
    expect(pathOf(() => adminOpSchema.parse(null))).toBe("");
    expect(pathOf(() => adminOpSchema.parse({ op: "grow", replica: 1 }))).toBe("op");
  });
});

describe("log entry schema", () => {
  const entry: LogEntry = {
    index: 3,
    term: 2,
    time: 100,
    seed: 0xffffffff,
    payload: { type: "commands", commands: [{ client: "c", seq: 1, ackedBelow: 1, cmd: "x" }] },
  };

  it("accepts entries of each payload type", () => {
    expect(logEntrySchema.parse(entry)).toBe(entry);
    expect(logEntrySchema.parse({ ...entry, payload: { type: "noop" } })).toBeTruthy();
    expect(
      logEntrySchema.parse({ ...entry, payload: { type: "config", config: { members: [0, 1] } } }),
    ).toBeTruthy();
    expect(commandCount(entry)).toBe(1);
    expect(commandCount({ ...entry, payload: { type: "noop" } })).toBe(0);
  });

  it("rejects bad entries at the bad field", () => {
    expect(pathOf(() => logEntrySchema.parse({ ...entry, index: 0 }))).toBe("index");
    expect(pathOf(() => logEntrySchema.parse({ ...entry, seed: 2 ** 32 }))).toBe("seed");
    expect(
      pathOf(() => logEntrySchema.parse({ ...entry, payload: { type: "noop", extra: 1 } })),
    ).toBe("payload.extra");
    expect(
      pathOf(() =>
        logEntrySchema.parse({
          ...entry,
          payload: {
            type: "commands",
            commands: [{ client: "c", seq: 1, ackedBelow: 1.5, cmd: null }],
          },
        }),
      ),
    ).toBe("payload.commands[0].ackedBelow");
  });
});
