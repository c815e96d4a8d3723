import { afterAll, afterEach, describe, expect, test } from "vitest";
import { connect, type LockstepClient } from "../../src/client/index.js";
import { replicaKeyFile } from "../../src/net/keys.js";
import { silentLogger } from "../../src/runtime/logger.js";
import { type Replica, startReplica } from "../../src/runtime/replica.js";
import type {
  KvCommand,
  KvQuery,
  KvQueryResult,
  KvResult,
} from "../../src/state-machines/kv/index.js";
import { createServiceKit } from "../../src/state-machines/registry.js";
import {
  ClusterFixture,
  type ClusterFixtureOptions,
  failure,
  waitFor,
} from "../runtime/helpers.js";

// The client library against in-process replicas (startReplica) on 127.0.0.1.

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

async function cluster(
  options: ClusterFixtureOptions = {},
  start: readonly number[] | "all" = "all",
): Promise<ClusterFixture> {
  const f = await ClusterFixture.create({ n: 1, ...options });
  fixtures.push(f);
  const ids = start === "all" ? f.config.replicas.map((r) => r.id) : start;
  for (const id of ids) replicas.push(await startOne(f, id));
  return f;
}

function startOne(f: ClusterFixture, id: number): Promise<Replica> {
  return startReplica({
    config: f.config,
    id,
    keys: replicaKeyFile(f.keys, id),
    dataDir: f.dataDir(id),
    service: createServiceKit("kv").definition,
    logger: silentLogger,
    metrics: false,
  });
}

async function client(
  f: ClusterFixture,
  name = "alice",
  options: { timeoutMs?: number; retryTicks?: number } = {},
): Promise<LockstepClient> {
  const c = await connect({ config: f.config, keys: f.clientKeys(name), ...options });
  clients.push(c);
  return c;
}

describe("LockstepClient", () => {
  test("many concurrent invocations each take effect once, in a session of their own", async () => {
    const f = await cluster();
    const c = await client(f);
    expect(c.clientId).toBe("alice");
    expect(c.sessionId).toMatch(/^alice\.[0-9a-f]{12}$/);
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        c.invoke({ op: "put", key: `k${i % 10}`, value: `v${i}` }),
      ),
    );
    expect(results).toHaveLength(200);
    // Each key was written 20 times; the previous values seen form a chain (each put ran once).
    for (let k = 0; k < 10; k++) {
      const prevs = results
        .filter((_, i) => i % 10 === k)
        .map((r) => (r as { prev: string | null }).prev);
      expect(prevs.filter((p) => p === null)).toHaveLength(1);
      expect(new Set(prevs).size).toBe(20);
    }
    expect(c.inFlight).toBe(0);
    // A second client object with the same identity gets its own session: no cached results.
    const again = await client(f);
    expect(again.sessionId).not.toBe(c.sessionId);
    expect(await again.invoke({ op: "put", key: "fresh", value: "1" })).toEqual({
      ok: true,
      prev: null,
    });
  });

  test("typed clients: the service's command, result, query and answer types", async () => {
    const f = await cluster();
    const c = await connect<KvCommand, KvResult, KvQuery, KvQueryResult>({
      config: f.config,
      keys: f.clientKeys("typed"),
    });
    try {
      const put: KvResult = await c.invoke({ op: "put", key: "t", value: "1" });
      expect(put).toEqual({ ok: true, prev: null });
      const got: KvQueryResult = await c.query({ op: "get", key: "t" });
      expect(got.value).toBe("1");
    } finally {
      await c.close();
    }
  });

  test("a malformed command is refused with code invalid (definitely not applied)", async () => {
    const f = await cluster();
    const c = await client(f);
    // An untyped client can send anything; the service validates it.
    const error = await failure(c.invoke({ op: "explode", key: 1 }));
    expect(error.code).toBe("invalid");
    expect(error.indeterminate).toBe(false);
    expect(error.message).toContain("did not take effect");
    const q = await failure(c.query({ op: "put", key: "x", value: "y" }));
    expect(q.code).toBe("invalid");
  });

  test("timeouts: per client and per call; the timed-out command still takes effect later", async () => {
    // The replica is configured but not running yet.
    const f = await cluster({}, []);
    const c = await client(f, "alice", { timeoutMs: 300 });
    let start = performance.now();
    const error = await failure(c.invoke({ op: "put", key: "late", value: "v" }));
    const elapsed = performance.now() - start;
    expect(error.code).toBe("timeout");
    expect(error.indeterminate).toBe(true);
    expect(error.message).toContain("may still take effect");
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(2_000);
    start = performance.now();
    expect((await failure(c.query({ op: "get", key: "late" }, { timeoutMs: 100 }))).code).toBe(
      "timeout",
    );
    expect(performance.now() - start).toBeLessThan(1_000);

    // Now the replica comes up: the core kept retrying the timed-out put with the same seq.
    replicas.push(await startOne(f, 0));
    const reader = await client(f, "bob", { timeoutMs: 5_000 });
    await waitFor("the timed-out put to take effect", async () => {
      const r = (await reader.query({ op: "get", key: "late" })) as { value: string | null };
      return r.value === "v";
    });
  });

  test("AbortSignal: before sending (definite) and in flight (indeterminate)", async () => {
    const f = await cluster({}, []); // nothing answers
    const c = await client(f, "alice", { timeoutMs: 0 });
    const before = new AbortController();
    before.abort(new Error("changed my mind"));
    const e1 = await failure(
      c.invoke({ op: "put", key: "k", value: "v" }, { signal: before.signal }),
    );
    expect(e1.code).toBe("aborted");
    expect(e1.indeterminate).toBe(false);
    expect(e1.message).toContain("changed my mind");

    const during = new AbortController();
    const pending = c.invoke({ op: "put", key: "k", value: "v" }, { signal: during.signal });
    setTimeout(() => during.abort(), 50);
    const e2 = await failure(pending);
    expect(e2.code).toBe("aborted");
    expect(e2.indeterminate).toBe(true);
    expect(c.inFlight).toBe(0);

    const timed = await failure(
      c.invoke({ op: "put", key: "k", value: "v" }, { signal: AbortSignal.timeout(30) }),
    );
    expect(timed.code).toBe("aborted");
  });

  test("close rejects pending calls (indeterminate) and later calls (definite)", async () => {
    const f = await cluster({}, []);
    const c = await client(f, "alice", { timeoutMs: 0 });
    const pending = [
      c.invoke({ op: "put", key: "k", value: "v" }),
      c.query({ op: "get", key: "k" }),
    ];
    await new Promise((resolve) => setTimeout(resolve, 30));
    await c.close();
    for (const p of pending) {
      const error = await failure(p);
      expect(error.code).toBe("closed");
      expect(error.indeterminate).toBe(true);
    }
    const after = await failure(c.invoke({ op: "put", key: "k", value: "v" }));
    expect(after.code).toBe("closed");
    expect(after.indeterminate).toBe(false);
    await c.close(); // idempotent
  });

  test("many clients sharing one key file work side by side", async () => {
    // Processes of one service typically share a key; each connection keeps its own replies.
    const f = await cluster({ n: 3 });
    const sharing = await Promise.all(
      Array.from({ length: 30 }, () => client(f, "alice", { timeoutMs: 10_000 })),
    );
    await Promise.all(
      sharing.map(async (c, i) => {
        for (let n = 0; n < 5; n++) await c.invoke({ op: "put", key: `k${i}`, value: `v${n}` });
      }),
    );
    const values = await Promise.all(sharing.map((c, i) => c.query({ op: "get", key: `k${i}` })));
    expect(values).toEqual(sharing.map(() => ({ ok: true, value: "v4" })));
  });

  test("an expired session reports an unknown outcome", async () => {
    // Sessions expire after 1 ms of log time. The query opens the session (a client registers on
    // its first request); the command, logged a few ticks later, finds it gone. Entry times come
    // from the leader's last tick, so without the wait both could carry the same time.
    const f = await cluster({ sessions: { ttlMs: 1 } });
    const c = await client(f);
    await c.query({ op: "get", key: "k" });
    await new Promise((resolve) => setTimeout(resolve, 5 * f.config.tickMs));
    const error = await failure(c.invoke({ op: "put", key: "k", value: "v" }));
    expect(error.code).toBe("session-expired");
    expect(error.indeterminate).toBe(true);
    expect(error.message).toContain("outcome is unknown");
  });

  test("follows the leader and runs admin requests (three in-process replicas)", async () => {
    const f = await cluster({ n: 3, settings: { electionTicks: 10, heartbeatTicks: 2 } });
    const c = await client(f);
    await c.invoke({ op: "put", key: "k", value: "v1" });
    const leader = await waitFor("a leader", () =>
      replicas.find((r) => r.status().role === "leader"),
    );
    const target = replicas.find((r) => r !== leader)!;
    expect(await c.admin({ op: "transfer", to: target.id })).toBeNull();
    await waitFor("the transfer", () => target.status().role === "leader");
    expect(await c.invoke({ op: "put", key: "k", value: "v2" })).toEqual({ ok: true, prev: "v1" });
    const bad = await failure(c.admin({ op: "transfer", to: 7 }));
    expect(bad.code).toBe("invalid");
  });
});

describe("connect", () => {
  test("refuses configurations and identities it cannot use", async () => {
    const f = await ClusterFixture.create({ n: 1 });
    fixtures.push(f);
    await expect(
      connect({ config: f.config, keys: f.clientKeys("alice"), clientId: "bob" }),
    ).rejects.toThrow('belongs to "alice", not "bob"');
    await expect(connect({ config: f.config, keys: f.keys })).rejects.toThrow(
      "clientId is required",
    );
    await expect(
      connect({ config: f.config, keys: f.keys, clientId: "x".repeat(41) }),
    ).rejects.toThrow("1 to 40 characters");
    // The same rules as key files (issue 15): 40 characters is fine, control characters and ':' are not.
    await expect(
      connect({ config: f.config, keys: f.keys, clientId: "x\ny\u0000" }),
    ).rejects.toThrow("control characters");
    await expect(connect({ config: f.config, keys: f.keys, clientId: "c:r1" })).rejects.toThrow(
      "may not contain ':'",
    );
    await expect(
      connect({ config: { ...f.config, replicas: [{ id: 0 }] }, keys: f.clientKeys("alice") }),
    ).rejects.toThrow("no address");
    await expect(
      connect({ config: f.config, keys: f.clientKeys("alice"), timeoutMs: -1 }),
    ).rejects.toThrow(RangeError);
    // A cluster key file with an explicit id works (the key is derived).
    const c = await connect({ config: f.config, keys: f.keys, clientId: "ops" });
    expect(c.sessionId.startsWith("ops.")).toBe(true);
    await c.close();
  });
});
