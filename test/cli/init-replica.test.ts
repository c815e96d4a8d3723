import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { connect } from "../../src/client/index.js";
import { validateClusterConfig } from "../../src/core/config.js";
import { readKeyFile } from "../../src/net/keys.js";
import { loadClusterConfig } from "../../src/runtime/config-file.js";
import { freeBasePort } from "./free-ports.js";
import { cliPath, runCli } from "./run-cli.js";

const dirs: string[] = [];
const children: ChildProcess[] = [];

afterEach(() => {
  for (const c of children.splice(0)) c.kill("SIGKILL");
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("lockstep init and lockstep replica", () => {
  it("writes a valid configuration and private key files, then runs a cluster that serves a client and stops on SIGTERM", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lockstep-init-"));
    dirs.push(dir);
    const cluster = join(dir, "cluster");
    const basePort = await freeBasePort();
    const init = runCli([
      "init",
      "--protocol",
      "raft",
      "--replicas",
      "3",
      "--dir",
      cluster,
      "--base-port",
      String(basePort),
    ]);
    expect(init.code, init.stderr).toBe(0);
    const config = loadClusterConfig(join(cluster, "cluster.json"));
    expect(validateClusterConfig(config).replicas).toHaveLength(3);
    for (const file of [
      "cluster-keys.json",
      "replica-0.json",
      "replica-1.json",
      "replica-2.json",
      "client-cli.json",
    ]) {
      expect(statSync(join(cluster, "keys", file)).mode & 0o077).toBe(0);
      expect(() => readKeyFile(join(cluster, "keys", file))).not.toThrow();
    }
    for (let id = 0; id < 3; id++) {
      children.push(
        spawn(
          process.execPath,
          [
            cliPath,
            "replica",
            "--config",
            join(cluster, "cluster.json"),
            "--keys",
            join(cluster, "keys", `replica-${id}.json`),
            "--id",
            String(id),
            "--data",
            join(cluster, `data-${id}`),
            "--no-metrics",
            "--log-level",
            "error",
          ],
          { stdio: "ignore" },
        ),
      );
    }
    const client = await connect({
      config,
      keys: readKeyFile(join(cluster, "keys", "client-cli.json")),
      clientId: "cli",
      timeoutMs: 15_000,
    });
    try {
      expect(await client.invoke({ op: "put", key: "k", value: "v1" })).toEqual({
        ok: true,
        prev: null,
      });
      expect(await client.query({ op: "get", key: "k" })).toEqual({ ok: true, value: "v1" });
    } finally {
      await client.close();
    }
    const kv = (...args: string[]) =>
      runCli([
        "kv",
        ...args,
        "--config",
        join(cluster, "cluster.json"),
        "--keys",
        join(cluster, "keys", "client-cli.json"),
      ]);
    expect(kv("put", "k2", "a").stdout.trim()).toBe('{"ok":true,"prev":null}');
    expect(kv("cas", "k2", "a", "b").stdout.trim()).toBe('{"ok":true,"value":"b"}');
    expect(kv("cas", "k2", "a", "c").stdout.trim()).toBe('{"ok":false,"value":"b"}');
    expect(kv("get", "k2").stdout.trim()).toBe('{"ok":true,"value":"b"}');
    expect(kv("del", "k2").stdout.trim()).toBe('{"ok":true,"existed":true}');
    expect(kv("get", "k2").stdout.trim()).toBe('{"ok":true,"value":null}');
    const exits = children.map(
      (c) => new Promise<number | null>((resolve) => c.once("exit", (code) => resolve(code))),
    );
    for (const c of children) c.kill("SIGTERM");
    expect(await Promise.all(exits)).toEqual([0, 0, 0]);
    children.length = 0;
  }, 60_000);

  it.each([
    [
      ["init", "--protocol", "paxos", "--dir", "x"],
      /--protocol must be one of raft, pbft, primary-backup, single/,
    ],
    [
      ["init", "--protocol", "raft", "--replicas", "2", "--dir", "x"],
      /raft needs at least 3 replicas/,
    ],
    [["init", "--protocol", "raft"], /--dir is required/],
    [["replica", "--id", "zero"], /--config is required|--id/],
    [["kv", "frob", "k"], /unknown operation "frob"/],
    [["kv", "put", "k"], /expected 2 argument/],
    [["kv", "get", "k"], /--config is required/],
    [["kv", "get", "k", "--config", "/nonexistent.json", "--keys", "x"], /nonexistent/],
  ])("rejects %j with one line and exit code 2", (args, message) => {
    const { code, stderr } = runCli(args);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(stderr.trim().split("\n")).toHaveLength(1);
  });

  it("init --hosts: one replica per host, ports per host, metrics on the same host, a cluster id", () => {
    const dir = mkdtempSync(join(tmpdir(), "lockstep-init-"));
    dirs.push(dir);
    const cluster = join(dir, "c");
    const init = runCli([
      "init",
      "--protocol",
      "raft",
      "--hosts",
      "10.9.0.1,10.9.0.2:7000,[fd00::1]:7001,10.9.0.1,db5.example",
      "--dir",
      cluster,
    ]);
    expect(init.code, init.stderr).toBe(0);
    const config = loadClusterConfig(join(cluster, "cluster.json"));
    expect(config.replicas.map((r) => [r.host, r.port, r.metricsPort])).toEqual([
      ["10.9.0.1", 7400, 7500],
      ["10.9.0.2", 7000, 7100],
      ["fd00::1", 7001, 7101],
      ["10.9.0.1", 7401, 7501],
      ["db5.example", 7400, 7500],
    ]);
    expect(config.f).toBe(2);
    expect(config.clusterId).toMatch(/^ls-[0-9a-f]{12}$/);
    expect(init.stdout).toContain(`wrote raft cluster ${config.clusterId} of 5 replica(s)`);
    expect(init.stdout).toMatch(/on 10\.9\.0\.2: npx lockstep replica .* --id 1 /);

    const named = join(dir, "named");
    const withId = runCli(
      ["init", "--protocol", "raft", "--hosts", "h1,h2,h3", "--cluster-id", "prod-eu.1"].concat([
        "--dir",
        named,
      ]),
    );
    expect(withId.code, withId.stderr).toBe(0);
    expect(loadClusterConfig(join(named, "cluster.json")).clusterId).toBe("prod-eu.1");
  });

  it.each([
    [["--hosts", "a,b", "--replicas", "3"], /--hosts names 2 hosts but --replicas is 3/],
    [["--hosts", "a,b,c", "--host", "a"], /--host .* or --hosts, not both/],
    [["--hosts", "a,,c"], /comma-separated list of hosts/],
    [["--hosts", "a:99999,b,c"], /bad port in "a:99999"/],
    [["--hosts", "a,b,c", "--cluster-id", "no spaces"], /clusterId: expected 1 to 64/],
  ])("init %j is refused with one line and exit 2", (extra, message) => {
    const dir = mkdtempSync(join(tmpdir(), "lockstep-init-"));
    dirs.push(dir);
    const { code, stderr } = runCli([
      "init",
      "--protocol",
      "raft",
      "--dir",
      join(dir, "c"),
      ...extra,
    ]);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(stderr.trim().split("\n")).toHaveLength(1);
  });

  it("does not hand out a port something on this machine listens on", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lockstep-init-"));
    dirs.push(dir);
    const base = await freeBasePort();
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(base + 1, "127.0.0.1", resolve));
    try {
      const given = runCli([
        "init",
        "--protocol",
        "raft",
        "--base-port",
        String(base),
        "--dir",
        join(dir, "a"),
      ]);
      expect(given.code).toBe(2);
      expect(given.stderr).toMatch(
        new RegExp(
          `127\\.0\\.0\\.1:${base + 1}(, [0-9.:]+)* already in use on this machine \\(another cluster running\\?\\)`,
        ),
      );
      const explicit = runCli([
        "init",
        "--protocol",
        "raft",
        "--hosts",
        `127.0.0.1:${base + 1},127.0.0.1:${base + 2},127.0.0.1:${base + 3}`,
        "--dir",
        join(dir, "b"),
      ]);
      expect(explicit.code).toBe(2);
      expect(explicit.stderr).toMatch(/already in use/);
    } finally {
      await new Promise<void>((resolve) => holder.close(() => resolve()));
    }
  });

  it("refuses to write into a folder that is not empty", () => {
    const dir = mkdtempSync(join(tmpdir(), "lockstep-init-"));
    dirs.push(dir);
    expect(runCli(["init", "--protocol", "raft", "--replicas", "3", "--dir", dir]).code).toBe(0);
    const again = runCli(["init", "--protocol", "raft", "--replicas", "3", "--dir", dir]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/is not empty/);
  });
});
