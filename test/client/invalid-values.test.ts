import { afterAll, afterEach, describe, expect, test } from "vitest";
import { connect, type LockstepClient } from "../../src/client/index.js";
import type { ClientReplyMessage } from "../../src/core/client-messages.js";
import type { Value } from "../../src/core/value.js";
import { ClientTransport } from "../../src/net/client-connection.js";
import { keyRingFor, replicaKeyFile } from "../../src/net/keys.js";
import { findProtocol } from "../../src/protocols/registry.js";
import { silentLogger } from "../../src/runtime/logger.js";
import { type Replica, startReplica } from "../../src/runtime/replica.js";
import { createServiceKit } from "../../src/state-machines/registry.js";
import { ClusterFixture, failure, waitFor } from "../runtime/helpers.js";

// Issue 10, bugs 1, 2, 3 and 5: values the replicas refuse fail at once, never hang, never crash
// the process and never block the session; invalid commands are refused before they are logged.

const fixtures: ClusterFixture[] = [];
const replicas: Replica[] = [];
const clients: LockstepClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(replicas.splice(0).map((r) => r.close()));
});
afterAll(() => {
  for (const f of fixtures) f.remove();
});

async function oneReplica(sessions?: { [key: string]: number }): Promise<ClusterFixture> {
  const f = await ClusterFixture.create({ n: 1, ...(sessions ? { sessions } : {}) });
  fixtures.push(f);
  replicas.push(
    await startReplica({
      config: f.config,
      id: 0,
      keys: replicaKeyFile(f.keys, 0),
      dataDir: f.dataDir(0),
      service: createServiceKit("kv").definition,
      logger: silentLogger,
      metrics: false,
    }),
  );
  return f;
}

async function client(f: ClusterFixture, timeoutMs = 3_000): Promise<LockstepClient> {
  const c = await connect({ config: f.config, keys: f.clientKeys("alice"), timeoutMs });
  clients.push(c);
  return c;
}

function nested(depth: number): Value {
  let v: Value = "leaf";
  for (let i = 0; i < depth; i++) v = { a: v };
  return v;
}

describe("values the wire schema refuses", () => {
  test("fail at once with invalid, definitely not applied (NaN, ±Infinity, undefined, Date, depth, size, bigint)", async () => {
    const f = await oneReplica();
    const c = await client(f);
    const bad: [string, unknown][] = [
      ["NaN", Number.NaN],
      ["Infinity", Number.POSITIVE_INFINITY],
      ["-Infinity", Number.NEGATIVE_INFINITY],
      ["undefined", undefined],
      ["Date", new Date(0)],
      ["nesting 40 deep", nested(40)],
      ["3 MB string", "x".repeat(3_000_000)],
      ["bigint", 10n],
    ];
    for (const [name, v] of bad) {
      const started = Date.now();
      const e = await failure(c.invoke({ op: "put", key: "k", value: v } as never));
      expect(e.code, name).toBe("invalid");
      expect(e.indeterminate, name).toBe(false);
      expect(Date.now() - started, `${name} should not wait for a timeout`).toBeLessThan(2_000);
      const q = await failure(c.query({ op: "get", key: v } as never));
      expect(q.code, name).toBe("invalid");
    }
    const e = await failure(c.invoke({ op: "put", key: "k", value: 10n } as never));
    expect(e.message).toMatch(/bigint/);
    // Nothing of the above took effect: "k" was never written.
    expect(await c.query({ op: "get", key: "k" })).toEqual({ ok: true, value: null });
  });

  test("a value larger than the client's frames fails at once instead of being dropped on every retry", async () => {
    const f = await oneReplica();
    const c = await connect({
      config: f.config,
      keys: f.clientKeys("alice"),
      timeoutMs: 3_000,
      net: { maxFrameBytes: 64 * 1024 },
    });
    clients.push(c);
    const started = Date.now();
    const e = await failure(c.invoke({ op: "put", key: "k", value: "x".repeat(100_000) }));
    expect(e.code).toBe("invalid");
    expect(e.indeterminate).toBe(false);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(await c.invoke({ op: "put", key: "k", value: "x".repeat(10_000) })).toBeDefined();
  });

  test("100,000-level nesting rejects the call with invalid instead of throwing from a timer", async () => {
    const f = await oneReplica();
    const c = await client(f);
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on("uncaughtException", onUncaught);
    try {
      const e = await failure(c.invoke({ op: "put", key: "k", value: nested(100_000) } as never));
      expect(e.code).toBe("invalid");
      expect(e.indeterminate).toBe(false);
      // Let the retry timer run a few times: nothing may escape from it.
      await new Promise((resolve) => setTimeout(resolve, 500));
    } finally {
      process.off("uncaughtException", onUncaught);
    }
    expect(uncaught).toEqual([]);
    expect(await c.invoke({ op: "put", key: "k", value: "ok" })).toBeDefined();
  });

  test("a refused command never blocks the session: 300 commands after it all succeed", async () => {
    const f = await oneReplica({ maxOutstanding: 16 });
    const c = await client(f, 1_000);
    const e = await failure(c.invoke({ op: "put", key: "k", value: Number.NaN } as never));
    expect(e.code).toBe("invalid");
    for (let i = 0; i < 300; i++) {
      await c.invoke({ op: "put", key: `k${i % 7}`, value: `v${i}` });
    }
    const bad = await failure(c.invoke({ op: "nope" } as never));
    expect(bad.code).toBe("invalid");
    for (let i = 0; i < 50; i++) await c.invoke({ op: "put", key: "k", value: `w${i}` });
  });
});

/** A client connection that sends whatever it is given, bypassing the client's own checks. */
async function rawClient(f: ClusterFixture): Promise<{
  send(msg: unknown): void;
  replies: ClientReplyMessage[];
  close(): Promise<void>;
}> {
  const definition = findProtocol("raft").definition;
  const transport = new ClientTransport({
    clientId: "alice",
    config: f.config,
    keys: keyRingFor(f.clientKeys("alice"), "c:alice"),
    schemas: definition.schemas,
    backoff: { initialMs: 20, maxMs: 200 },
  });
  const replies: ClientReplyMessage[] = [];
  transport.onResponse((_from, msg) => replies.push(msg as ClientReplyMessage));
  return {
    send: (msg) => transport.send(0, msg as never),
    replies,
    close: () => transport.close(),
  };
}

describe("the replicas answer what they refuse", () => {
  test("a request the wire schema rejects gets an invalid reply, not silence", async () => {
    const f = await oneReplica();
    const raw = await rawClient(f);
    try {
      raw.send({ type: "request", client: "alice.x", seq: 0, ackedBelow: 0, cmd: null });
      await waitFor("the session", () => raw.replies.length === 1, 5_000, 10);
      const cmd = { op: "put", key: "k", value: Number.NaN };
      raw.send({ type: "request", client: "alice.x", seq: 1, ackedBelow: 1, cmd });
      raw.send({ type: "query", client: "alice.x", qid: 7, q: { op: "get", key: Number.NaN } });
      await waitFor("the refusals", () => raw.replies.length === 3, 5_000, 10);
      expect(raw.replies[1]).toMatchObject({
        type: "reply",
        seq: 1,
        result: { ok: false, error: "invalid" },
      });
      expect(raw.replies[2]).toMatchObject({
        type: "queryReply",
        qid: 7,
        result: { ok: false, error: "invalid" },
      });
    } finally {
      await raw.close();
    }
  });

  test("invalid and oversized commands are refused before they are logged", async () => {
    const f = await oneReplica();
    const raw = await rawClient(f);
    try {
      raw.send({ type: "request", client: "alice.y", seq: 0, ackedBelow: 0, cmd: null });
      await waitFor("the session", () => raw.replies.length === 1, 5_000, 10);
      const before = replicas[0]!.status().lastIndex;
      for (let seq = 1; seq <= 200; seq++) {
        raw.send({ type: "request", client: "alice.y", seq, ackedBelow: 1, cmd: { op: "bogus" } });
      }
      const junk = { op: "put", key: "k", value: "v", junk: "x".repeat(5_000_000) };
      raw.send({ type: "request", client: "alice.y", seq: 201, ackedBelow: 1, cmd: junk });
      await waitFor("201 refusals", () => raw.replies.length === 202, 10_000, 10);
      for (const reply of raw.replies.slice(1)) {
        expect(reply).toMatchObject({ result: { ok: false, error: "invalid" } });
      }
      expect(JSON.stringify(raw.replies.at(-1))).toMatch(/exceeds the limit/);
      // Nothing was appended to the log for them (a tick may add no entries in a one-replica raft).
      expect(replicas[0]!.status().lastIndex).toBe(before);
    } finally {
      await raw.close();
    }
  });
});
