import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { afterAll, afterEach, describe, expect, test } from "vitest";
import { connect } from "../../src/client/index.js";
import type { ProtocolName } from "../../src/core/protocol.js";
import { replicaKeyFile } from "../../src/net/keys.js";
import { ClientRoutes } from "../../src/runtime/client-routes.js";
import { ConfigFileError, loadClusterConfig } from "../../src/runtime/config-file.js";
import { StartupError } from "../../src/runtime/errors.js";
import { jsonLogger, type Logger } from "../../src/runtime/logger.js";
import { Histogram, MetricsWriter } from "../../src/runtime/prometheus.js";
import { type Replica, type StartReplicaOptions, startReplica } from "../../src/runtime/replica.js";
import { loadReplicaOptions, parseReplicaArgs } from "../../src/runtime/replica-args.js";
import { RequestLatency } from "../../src/runtime/request-latency.js";
import { createServiceKit } from "../../src/state-machines/registry.js";
import {
  ClusterFixture,
  killAll,
  parseMetrics,
  ReplicaProcess,
  replicaMain,
  requireBuild,
  waitFor,
} from "./helpers.js";

const fixtures: ClusterFixture[] = [];
const replicas: Replica[] = [];
afterEach(async () => {
  await Promise.all(replicas.splice(0).map((r) => r.close()));
  await killAll();
});
afterAll(() => {
  for (const f of fixtures) f.remove();
});

async function fixture(
  options: Parameters<typeof ClusterFixture.create>[0] = {},
): Promise<ClusterFixture> {
  const f = await ClusterFixture.create(options);
  fixtures.push(f);
  return f;
}

function memoryLogger(): Logger & { lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = jsonLogger({ replica: 0, write: (line) => lines.push(JSON.parse(line)) });
  return Object.assign(logger, { lines });
}

function options(f: ClusterFixture, id: number, logger: Logger): StartReplicaOptions {
  return {
    config: f.config,
    id,
    keys: replicaKeyFile(f.keys, id),
    dataDir: f.dataDir(id),
    service: createServiceKit("kv").definition,
    logger,
  };
}

async function startupError(promise: Promise<unknown>): Promise<StartupError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(StartupError);
    return error as StartupError;
  }
  throw new Error("expected a StartupError");
}

describe("building blocks", () => {
  test("loadClusterConfig names the file in every error", () => {
    const dir = fs.mkdtempSync(path.join(fs.realpathSync("/tmp"), "lockstep-config-"));
    try {
      const file = path.join(dir, "c.json");
      expect(() => loadClusterConfig(file)).toThrow(`${file}: no such file`);
      fs.writeFileSync(file, "{ not json");
      expect(() => loadClusterConfig(file)).toThrow(ConfigFileError);
      expect(() => loadClusterConfig(file)).toThrow(`${file}: not JSON`);
      fs.writeFileSync(
        file,
        JSON.stringify({ protocol: "raft", f: 1, replicas: [{ id: 0 }], tickMs: 0, extra: 1 }),
      );
      const error = (() => {
        try {
          loadClusterConfig(file);
        } catch (e) {
          return e as ConfigFileError;
        }
      })();
      expect(error?.message.startsWith(`${file}: `)).toBe(true);
      expect(error?.problems).toEqual(
        expect.arrayContaining([
          "extra: unknown field",
          expect.stringContaining("tickMs"),
          expect.stringContaining("raft needs at least 3 replicas"),
        ]),
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("parseReplicaArgs: required flags, bounds, defaults", () => {
    const base = ["--config", "c.json", "--keys", "k.json", "--id", "1", "--data", "d"];
    expect(parseReplicaArgs(base)).toMatchObject({
      configFile: "c.json",
      keysFile: "k.json",
      id: 1,
      dataDir: "d",
      service: undefined, // the configuration's service, else kv (loadReplicaOptions decides)
      // No --metrics-host: the endpoint listens where the replica does (decided at start).
      metrics: { host: undefined, port: undefined },
    });
    expect(parseReplicaArgs([...base, "--metrics-host", "10.0.0.5"]).metrics).toEqual({
      host: "10.0.0.5",
      port: undefined,
    });
    expect(
      parseReplicaArgs([...base, "--metrics-port", "9100", "--service", "lock"]),
    ).toMatchObject({
      metrics: { port: 9100 },
      service: "lock",
    });
    expect(parseReplicaArgs([...base, "--no-metrics"]).metrics).toBe(false);
    const usage = (argv: string[]) => {
      try {
        parseReplicaArgs(argv);
      } catch (error) {
        expect(error).toBeInstanceOf(StartupError);
        expect((error as StartupError).kind).toBe("usage");
        return (error as Error).message;
      }
      throw new Error("expected a usage error");
    };
    expect(usage(base.slice(2))).toContain("--config is required");
    expect(usage([...base.slice(0, 5), "x", "--data", "d"])).toContain(
      '--id expects an integer, got "x"',
    );
    expect(usage([...base, "--metrics-port", "70000"])).toContain(
      "--metrics-port must be from 0 to 65535",
    );
    expect(usage([...base, "--service", "nope"])).toContain("--service must be one of");
    expect(usage([...base, "--bogus"])).toContain("bogus");
    expect(parseReplicaArgs(["--help"]).help).toBe(true);
  });

  test("loadReplicaOptions names the key file", async () => {
    const f = await fixture();
    const args = parseReplicaArgs([
      "--config",
      f.configFile,
      "--keys",
      path.join(f.dir, "missing.json"),
      "--id",
      "0",
      "--data",
      f.dataDir(0),
    ]);
    expect(() => loadReplicaOptions(args)).toThrow(
      `${path.join(f.dir, "missing.json")}: no such file`,
    );
    fs.chmodSync(f.keyFile(0), 0o644);
    const loose = parseReplicaArgs([
      "--config",
      f.configFile,
      "--keys",
      f.keyFile(0),
      "--id",
      "0",
      "--data",
      f.dataDir(0),
    ]);
    expect(() => loadReplicaOptions(loose)).toThrow(/chmod 600/);
  });

  test("request latency matches replies to requests by session and number", () => {
    let now = 0;
    const latency = new RequestLatency({ now: () => now, maxTracked: 2 });
    latency.onRequest({ type: "request", client: "a.1", seq: 1 });
    now = 4;
    latency.onRequest({ type: "request", client: "a.1", seq: 1 }); // a retry keeps the first arrival
    now = 5;
    latency.onReply({ type: "reply", client: "a.1", seq: 1, result: { ok: true, value: null } });
    latency.onReply({
      type: "reply",
      client: "a.1",
      seq: 9,
      result: { ok: false, error: "not-leader" },
    });
    const h = latency.histogram("command");
    expect(h.count).toBe(1);
    expect(h.sum).toBeCloseTo(0.005);
    expect(latency.replyCounts()).toEqual([
      { kind: "command", result: "ok", count: 1 },
      { kind: "command", result: "not-leader", count: 1 },
    ]);
    latency.onRequest({ type: "query", client: "b", qid: 1 });
    latency.onRequest({ type: "admin", client: "b", aid: 1 });
    latency.onRequest({ type: "query", client: "b", qid: 2 }); // over the bound: the oldest is forgotten
    expect(latency.pending).toBe(2);
    expect(latency.forgotten).toBe(1);
    latency.onRequest("not a request");
    expect(latency.pending).toBe(2);
  });

  test("sessions a client connection may speak for", () => {
    expect(ClientRoutes.mayUse("alice", "alice")).toBe(true);
    expect(ClientRoutes.mayUse("alice", "alice.4f2a.1")).toBe(true);
    expect(ClientRoutes.mayUse("alice", "alicex")).toBe(false);
    expect(ClientRoutes.mayUse("alice", "bob.alice")).toBe(false);
    const routes = new ClientRoutes(2);
    routes.learn("alice.1", "alice", 1);
    routes.learn("bob.1", "bob", 2);
    routes.learn("carol.1", "carol", 3);
    expect(routes.targetOf("carol.1")).toEqual({ client: "carol", route: 3 });
    expect(routes.targetOf("alice.1")).toBe("alice.1"); // evicted: falls back to the session
    routes.learn("carol.1", "carol", 4); // the session spoke on another connection
    expect(routes.targetOf("carol.1")).toEqual({ client: "carol", route: 4 });
    expect(routes.size).toBe(2);
    // A session this replica never heard from (PBFT: a request it got through the primary)
    // goes to its owner's newest connection: `<id>.<12 hex>` belongs to `<id>`.
    expect(routes.targetOf("dave.0123456789ab")).toBe("dave");
    expect(routes.targetOf("my.app.0123456789ab")).toBe("my.app");
  });

  test("Prometheus text: histogram buckets are cumulative", () => {
    const h = new Histogram([0.1, 1]);
    h.observe(0.05);
    h.observe(0.5);
    h.observe(5);
    const text = new MetricsWriter()
      .histogram("x_seconds", "help", h.snapshot(), { replica: 0 })
      .text();
    const m = parseMetrics(text);
    expect(m.get('x_seconds_bucket{replica="0",le="0.1"}')).toBe(1);
    expect(m.get('x_seconds_bucket{replica="0",le="1"}')).toBe(2);
    expect(m.get('x_seconds_bucket{replica="0",le="+Inf"}')).toBe(3);
    expect(m.get('x_seconds_count{replica="0"}')).toBe(3);
    expect(text).toContain("# TYPE x_seconds histogram");
  });
});

describe("startReplica", () => {
  test("refuses bad settings, foreign keys, unknown protocols and busy ports with one-line errors", async () => {
    const f = await fixture();
    const log = memoryLogger();
    const base = options(f, 0, log);

    const settings = await startupError(
      startReplica({
        ...base,
        config: { ...f.config, settings: { electionTicks: 1, bogus: true } },
      }),
    );
    expect(settings.kind).toBe("config");
    expect(settings.message).toContain("raft settings");
    expect(settings.message).toContain("bogus: unknown raft setting");

    const keys = await startupError(startReplica({ ...base, keys: replicaKeyFile(f.keys, 1) }));
    expect(keys.kind).toBe("keys");
    expect(keys.message).toContain("belongs to r1, not r0");

    // pbft is registered now; a name nobody registered is still refused.
    const protocol = await startupError(
      startReplica({ ...base, config: { ...f.config, protocol: "paxos" as ProtocolName } }),
    );
    expect(protocol.kind).toBe("config");
    expect(protocol.message).toContain('unknown protocol "paxos"');

    const noAddress = await startupError(
      startReplica({
        ...base,
        config: { ...f.config, replicas: f.config.replicas.map((r) => ({ id: r.id })) },
      }),
    );
    expect(noAddress.message).toContain("needs a host and a port");

    const blocker = net.createServer();
    blocker.listen(f.config.replicas[0]!.port, "127.0.0.1");
    await new Promise((resolve) => blocker.once("listening", resolve));
    try {
      const busy = await startupError(startReplica(base));
      expect(busy.kind).toBe("listen");
      expect(busy.message).toContain(`cannot listen on 127.0.0.1:${f.config.replicas[0]!.port}`);
      // The data directory was released: a second attempt can open it.
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
    expect(fs.existsSync(path.join(f.dataDir(0), "LOCK"))).toBe(false);

    // Nothing was written for the refusals before storage.
    const second = await startupError(
      startReplica({ ...base, config: { ...f.config, settings: { preVote: "yes" } } }),
    );
    expect(second.message).toContain("preVote: expected a boolean");
  });

  test("a locked data directory is refused", async () => {
    const f = await fixture({ n: 1 });
    const log = memoryLogger();
    const first = await startReplica({ ...options(f, 0, log), metrics: false });
    replicas.push(first);
    const error = await startupError(startReplica({ ...options(f, 0, log), metrics: false }));
    expect(error.kind).toBe("storage");
    expect(error.message).toContain("is locked by running process");
  });

  test("a single-replica raft cluster serves, reports status and metrics, logs, and closes gracefully", async () => {
    const f = await fixture({ n: 1, settings: { snapshotEvery: 5 } });
    const log = memoryLogger();
    const replica = await startReplica(options(f, 0, log));
    replicas.push(replica);
    expect(replica.port).toBe(f.config.replicas[0]!.port);
    expect(replica.metricsPort).toBeGreaterThan(0);
    const client = await connect({ config: f.config, keys: f.clientKeys("alice") });
    try {
      for (let i = 0; i < 12; i++) await client.invoke({ op: "put", key: "k", value: `v${i}` });
      expect(await client.query({ op: "get", key: "k" })).toEqual({ ok: true, value: "v11" });
    } finally {
      await client.close();
    }
    const status = replica.status();
    expect(status).toMatchObject({
      role: "leader",
      leads: true,
      campaigning: false,
      epochName: "term",
      term: 1,
      leader: 0,
      replica: 0,
      protocol: "raft",
      service: "kv",
    });
    expect(status.appliedIndex).toBe(status.commitIndex);
    expect(status.snapshots.taken).toBeGreaterThanOrEqual(2);
    // 12 puts and the session's open, plus any "not-leader" answers before the election.
    const okCommands = status.requests.replies.find(
      (r) => r.kind === "command" && r.result === "ok",
    );
    expect(okCommands?.count).toBe(13);
    expect(status.requests.latency.command!.count).toBeGreaterThanOrEqual(13);
    expect(status.requests.latency.query!.count).toBe(1);
    expect(status.storage.fsyncs).toBeGreaterThan(0);

    const http = async (p: string) => fetch(`http://127.0.0.1:${replica.metricsPort}${p}`);
    const metrics = parseMetrics(await (await http("/metrics")).text());
    expect(metrics.get('lockstep_role{replica="0",role="leader"}')).toBe(1);
    expect(metrics.get('lockstep_role{replica="0",role="follower"}')).toBe(0);
    expect(metrics.get('lockstep_applied_index{replica="0"}')).toBe(status.appliedIndex);
    expect(
      metrics.get('lockstep_client_request_duration_seconds_count{replica="0",kind="command"}'),
    ).toBe(status.requests.latency.command!.count);
    expect(
      metrics.get('lockstep_client_replies_total{replica="0",kind="command",result="ok"}'),
    ).toBe(13);
    expect(metrics.get('lockstep_storage_ops_per_fsync{replica="0"}')).toBeGreaterThan(0);
    expect(metrics.get('lockstep_net_bytes_in_total{replica="0"}')).toBeGreaterThan(0);
    expect(metrics.get('lockstep_snapshots_taken_total{replica="0"}')).toBe(status.snapshots.taken);
    expect((await http("/status")).headers.get("content-type")).toBe("application/json");
    expect((await http("/healthz")).status).toBe(200);
    expect((await http("/nope")).status).toBe(404);

    await replica.close();
    replicas.splice(replicas.indexOf(replica), 1);
    const messages = log.lines.map((l) => l.msg);
    expect(messages).toEqual(
      expect.arrayContaining([
        "starting",
        "recovered",
        "started",
        "role changed",
        "snapshot taken",
        "stopped",
      ]),
    );
    for (const line of log.lines) {
      expect(Object.keys(line).slice(0, 4)).toEqual(["ts", "level", "replica", "msg"]);
    }
    const became = log.lines.find(
      (l) => l.msg === "role changed" && l.role === "leader" && l.leads === true,
    );
    expect(became).toMatchObject({ term: 1, leader: 0 });
    expect(fs.existsSync(path.join(f.dataDir(0), "LOCK"))).toBe(false);

    // Restart from the same directory: the state is recovered from snapshot + log.
    const again = await startReplica(options(f, 0, memoryLogger()));
    replicas.push(again);
    expect(again.status().recovery.snapshotIndex).toBeGreaterThanOrEqual(10);
    const reader = await connect({ config: f.config, keys: f.clientKeys("bob") });
    try {
      expect(await reader.query({ op: "get", key: "k" })).toEqual({ ok: true, value: "v11" });
    } finally {
      await reader.close();
    }
  });

  test("storage failure is fail-stop: the replica stops serving and reports it", async () => {
    const f = await fixture({ n: 1, settings: { snapshotEvery: 3 } });
    const log = memoryLogger();
    const fatal: unknown[] = [];
    const replica = await startReplica({ ...options(f, 0, log), onFatal: (e) => fatal.push(e) });
    replicas.push(replica);
    // A directory where the next snapshot's temp file must go makes the snapshot write fail.
    for (let i = 1; i <= 40; i++) {
      fs.mkdirSync(path.join(f.dataDir(0), `snapshot-${String(i).padStart(16, "0")}.snap.tmp`));
    }
    const client = await connect({ config: f.config, keys: f.clientKeys("alice"), timeoutMs: 500 });
    try {
      for (let i = 0; i < 20 && fatal.length === 0; i++) {
        await client.invoke({ op: "put", key: "k", value: `v${i}` }).catch(() => {});
      }
      expect(fatal).toHaveLength(1);
      expect((fatal[0] as Error).name).toBe("StorageFailedError");
      const line = log.lines.find((l) => l.level === "error");
      expect(line?.msg).toContain("storage failed");
      await expect(client.invoke({ op: "put", key: "k", value: "late" })).rejects.toMatchObject({
        code: "timeout",
      });
    } finally {
      await client.close();
    }
  });
});

describe("replica-main process", () => {
  test("bad arguments exit 2 and a bad config file exits 1, each with one line naming the problem", async () => {
    requireBuild();
    const f = await fixture();
    const usage = ReplicaProcess.spawn(f, 0, ["--id", "x"]);
    expect((await usage.exited).code).toBe(2);
    expect(usage.plainErrors).toEqual([
      expect.stringContaining('usage error: --id expects an integer, got "x"'),
    ]);

    fs.writeFileSync(f.configFile, JSON.stringify({ protocol: "raft", f: 1, replicas: [] }));
    const bad = ReplicaProcess.spawn(f, 0);
    expect((await bad.exited).code).toBe(1);
    expect(bad.plainErrors).toHaveLength(1);
    expect(bad.plainErrors[0]).toContain(
      `config error: ${f.configFile}: replicas: expected a non-empty array`,
    );
    expect(fs.existsSync(replicaMain)).toBe(true);
  });

  test("SIGTERM closes gracefully (exit 0); a failed storage write exits 1", async () => {
    const f = await fixture({ n: 1, settings: { snapshotEvery: 3 } });
    const p = ReplicaProcess.spawn(f, 0);
    await p.ready();
    const client = await connect({ config: f.config, keys: f.clientKeys("alice"), timeoutMs: 500 });
    try {
      await client.invoke({ op: "put", key: "k", value: "v" });
      await p.kill("SIGTERM");
      expect(p.exitCode).toBe(0);
      expect(p.log("stopped")).toBeDefined();

      const again = ReplicaProcess.spawn(f, 0);
      await again.ready();
      for (let i = 1; i <= 40; i++) {
        fs.mkdirSync(path.join(f.dataDir(0), `snapshot-${String(i).padStart(16, "0")}.snap.tmp`), {
          recursive: true,
        });
      }
      for (let i = 0; i < 20 && again.alive; i++) {
        await client.invoke({ op: "put", key: "k", value: `v${i}` }).catch(() => {});
      }
      const exit = await waitFor(
        "the replica to exit",
        async () => (again.alive ? undefined : again.exited),
        5_000,
      );
      expect(exit.code).toBe(1);
      expect(again.logs.find((l) => l.level === "error")?.msg).toContain("storage failed");
    } finally {
      await client.close();
    }
  });
});
