import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { assessCluster, type ReplicaProbe } from "../../src/cli/status-table.js";
import { RestartTracker, restartPolicy } from "../../src/cli/up-restart-policy.js";
import { readyLeader } from "../../src/cli/up-supervisor.js";
import type { ReplicaStatus } from "../../src/runtime/status.js";
import { freeBasePort } from "./free-ports.js";
import { type CliResult, cliPath, runCliAsync } from "./run-cli.js";

const dirs: string[] = [];
const ups: ChildProcess[] = [];
/** Every replica pid a test saw: killed in afterEach if a failed test left it running. */
const replicaPids = new Set<number>();

afterEach(async () => {
  for (const up of ups.splice(0)) {
    if (up.exitCode === null && up.signalCode === null) {
      up.kill("SIGINT");
      await exitOf(up, 10_000).catch(() => up.kill("SIGKILL"));
    }
  }
  for (const pid of replicaPids) if (alive(pid)) process.kill(pid, "SIGKILL");
  replicaPids.clear();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Runs the built CLI without blocking the event loop (up's output keeps flowing meanwhile). */
function cli(args: readonly string[], timeoutMs = 20_000): Promise<CliResult> {
  return runCliAsync(args, { timeoutMs });
}

function exitOf(child: ChildProcess, timeoutMs: number): Promise<number | null> {
  return new Promise((resolve, reject) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
    const timer = setTimeout(() => reject(new Error(`no exit in ${timeoutMs} ms`)), timeoutMs);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Base ports for init: a block below the ephemeral range (free-ports.ts). Ports the OS hands
 * out for port 0 are ephemeral ones, and another test's (or this cluster's own) outgoing socket
 * could take one between the check and the replica's bind: once, in CI, r1 never came up.
 */
async function freeBasePorts(): Promise<{ base: number; metricsBase: number }> {
  const base = await freeBasePort();
  return { base, metricsBase: base + 100 };
}

async function initCluster(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "lockstep-up-"));
  dirs.push(dir);
  const { base, metricsBase } = await freeBasePorts();
  const init = await cli([
    "init",
    "--protocol",
    "raft",
    "--replicas",
    "3",
    "--dir",
    join(dir, "c"),
    "--base-port",
    String(base),
    "--metrics-base-port",
    String(metricsBase),
  ]);
  expect(init.code, init.stderr).toBe(0);
  return join(dir, "c");
}

type StatusEntry = ReplicaStatus | { replica: number; error: string };

async function statusJson(config: string): Promise<{ code: number | null; list: StatusEntry[] }> {
  const result = await cli(["status", "--config", config, "--json"]);
  return { code: result.code, list: JSON.parse(result.stdout) as StatusEntry[] };
}

/** Polls `status --json` until `done` holds (or throws after timeoutMs). */
async function until(
  config: string,
  done: (code: number | null, list: StatusEntry[]) => boolean,
  timeoutMs: number,
): Promise<ReplicaStatus[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { code, list } = await statusJson(config);
    const statuses = list.filter((s): s is ReplicaStatus => "role" in s);
    for (const s of statuses) replicaPids.add(s.pid);
    if (done(code, list)) return statuses;
    if (Date.now() > deadline) throw new Error(`status never settled: ${JSON.stringify(list)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe("lockstep up and lockstep status", () => {
  it("runs a cluster, restarts a killed replica, serves kv, and stops every replica on SIGINT", async () => {
    const folder = await initCluster();
    const config = join(folder, "cluster.json");
    const up = spawn(process.execPath, [cliPath, "up", "--config", config], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    ups.push(up);
    let out = "";
    let err = "";
    up.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    up.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));

    const first = await until(
      config,
      (code, list) => code === 0 && list.every((s) => "role" in s),
      20_000,
    );
    expect(first).toHaveLength(3);
    const leaders = first.filter((s) => s.role === "leader");
    expect(leaders).toHaveLength(1);
    const table = await cli(["status", "--config", config]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(
      new RegExp(`leader: r${leaders[0]!.replica} \\(term \\d+\\); 3/3 replicas answering`),
    );
    expect(out).toMatch(/cluster ready: leader r\d, term \d+/);
    // Every replica reports the cluster id init wrote, and live links to both peers.
    const written = JSON.parse(readFileSync(config, "utf8")) as { clusterId: string };
    for (const s of first) {
      if (!("role" in s)) continue;
      expect(s.clusterId).toBe(written.clusterId);
    }

    // The same ports seen through another cluster's configuration: reported, never counted.
    const other = join(folder, "other-cluster.json");
    writeFileSync(other, JSON.stringify({ ...written, clusterId: "someone-else" }));
    const foreign = await cli(["status", "--config", other]);
    expect(foreign.code).toBe(1);
    expect(foreign.stdout).toMatch(
      new RegExp(
        `r0 +unknown \\(127\\.0\\.0\\.1:\\d+ answers for cluster ${written.clusterId}, not someone-else`,
      ),
    );

    // SIGKILL the leader: up restarts it under a new pid and the cluster elects again.
    const victim = leaders[0]!;
    process.kill(victim.pid, "SIGKILL");
    const after = await until(
      config,
      (code, list) => {
        const s = list[victim.replica];
        return code === 0 && s !== undefined && "pid" in s && s.pid !== victim.pid;
      },
      20_000,
    );
    expect(after).toHaveLength(3);
    expect(out).toMatch(
      new RegExp(
        `r${victim.replica} exited \\(signal SIGKILL\\) after [\\d.]+ s; restarting in 0.5 s`,
      ),
    );
    expect(out).toMatch(new RegExp(`r${victim.replica} started: pid \\d+, .*\\(restart 1\\)`));

    const kv = (...args: string[]) =>
      cli(["kv", ...args, "--config", config, "--keys", join(folder, "keys", "client-cli.json")]);
    const put = await kv("put", "k", "v1");
    expect(put.stdout.trim(), put.stderr).toBe('{"ok":true,"prev":null}');
    expect((await kv("get", "k")).stdout.trim()).toBe('{"ok":true,"value":"v1"}');

    const pids = [...replicaPids];
    up.kill("SIGINT");
    expect(await exitOf(up, 10_000)).toBe(0);
    expect(out).toMatch(/stopped\n$/);
    expect(err).toBe("");
    for (const pid of pids) expect(alive(pid), `replica pid ${pid}`).toBe(false);

    // Nothing runs now: status says what it knows (no endpoint answers) and fails.
    const down = await cli(["status", "--config", config]);
    expect(down.code).toBe(1);
    expect(down.stdout).toMatch(
      /r0 +no status endpoint reachable at 127\.0\.0\.1:\d+ \(connection refused\); the replica may be up/,
    );
    expect(down.stdout).toMatch(/no leader known; 0\/3 replicas answering \(3 status endpoint/);
  });

  it("up exits 1 once every replica is down for good (here: each one's port is taken)", async () => {
    const folder = await initCluster();
    const config = join(folder, "cluster.json");
    const ports = (JSON.parse(readFileSync(config, "utf8")) as { replicas: { port: number }[] })
      .replicas;
    const holders = await Promise.all(
      ports.map(
        ({ port }) =>
          new Promise<Server>((resolve) => {
            const server = createServer();
            server.listen(port, "127.0.0.1", () => resolve(server));
          }),
      ),
    );
    try {
      const up = spawn(process.execPath, [cliPath, "up", "--config", config], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      ups.push(up);
      let out = "";
      up.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
      expect(await exitOf(up, 60_000)).toBe(1);
      expect(out).toMatch(/every replica is down for good/);
      expect(out).toMatch(/EADDRINUSE/);
    } finally {
      await Promise.all(holders.map((h) => new Promise((resolve) => h.close(resolve))));
    }
  }, 90_000);

  it("replicas stop by themselves when up is killed with SIGKILL", async () => {
    const folder = await initCluster();
    const config = join(folder, "cluster.json");
    const up = spawn(process.execPath, [cliPath, "up", "--config", config], {
      stdio: ["ignore", "ignore", "ignore"],
    });
    ups.push(up);
    const running = await until(
      config,
      (code, list) => code === 0 && list.every((s) => "role" in s),
      20_000,
    );
    expect(running).toHaveLength(3);
    up.kill("SIGKILL");
    await exitOf(up, 5_000);
    // Each replica sees its IPC channel to up close and shuts down gracefully.
    const deadline = Date.now() + 10_000;
    while (running.some((s) => alive(s.pid)) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    for (const s of running) expect(alive(s.pid), `replica r${s.replica}`).toBe(false);
  });

  it("refuses bad arguments and missing key files with one line and exit 2; --help exits 0", async () => {
    const folder = await initCluster();
    const config = join(folder, "cluster.json");
    for (const args of [
      ["up"],
      ["up", "--config", config, "--bogus"],
      ["up", "--config", join(folder, "nope.json")],
      ["up", "--config", config, "--only", "0,7"],
      ["up", "--config", config, "--log-level", "loud"],
      ["status"],
      ["status", "--config", config, "--watch", "soon"],
      ["status", "--config", config, "--timeout", "-1"],
    ]) {
      const result = await cli(args);
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stderr.trimEnd().split("\n"), args.join(" ")).toHaveLength(1);
      expect(result.stdout).toBe("");
    }
    rmSync(join(folder, "keys", "replica-1.json"));
    const missing = await cli(["up", "--config", config]);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(missing.stderr).toContain(join(folder, "keys", "replica-1.json"));
    for (const command of ["up", "status"]) {
      const help = await cli([command, "--help"]);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain(`Usage: lockstep ${command} --config FILE`);
    }
  });

  it("restart policy: doubling backoff, no restart after exit 2, gives up on a crash loop", () => {
    const t = new RestartTracker();
    expect(t.onExit(60_000, 1)).toEqual({ kind: "restart", delayMs: 500 });
    expect(t.onExit(20_000, 1)).toEqual({ kind: "restart", delayMs: 1_000 });
    expect(t.onExit(20_000, null)).toEqual({ kind: "restart", delayMs: 2_000 });
    for (let i = 0; i < 4; i++) t.onExit(20_000, 1);
    expect(t.onExit(20_000, 1)).toEqual({ kind: "restart", delayMs: restartPolicy.maxDelayMs });
    expect(t.onExit(31_000, 1)).toEqual({ kind: "restart", delayMs: 500 });
    expect(new RestartTracker().onExit(100, 2).kind).toBe("give up");
    const looping = new RestartTracker();
    const kinds = Array.from({ length: 5 }, () => looping.onExit(300, 1).kind);
    expect(kinds).toEqual(["restart", "restart", "restart", "restart", "give up"]);
  });

  it("health: a majority and exactly one leader in the newest term", () => {
    const s = (replica: number, role: string, term: number, leader: number | null) =>
      ({ replica, role, leads: role === "leader", term, leader }) as ReplicaStatus;
    const probes = (...list: (ReplicaStatus | undefined)[]): ReplicaProbe[] =>
      list.map((status, replica) =>
        status === undefined ? { replica, error: "connection refused" } : { replica, status },
      );
    expect(
      assessCluster(probes(s(0, "leader", 2, 0), s(1, "follower", 2, 0), undefined)).healthy,
    ).toBe(true);
    // A stale leader in an older term does not count.
    expect(
      assessCluster(probes(s(0, "leader", 2, 0), s(1, "candidate", 3, null), undefined)).healthy,
    ).toBe(false);
    expect(assessCluster(probes(s(0, "leader", 2, 0), undefined, undefined)).healthy).toBe(false);
    expect(readyLeader([s(0, "leader", 2, 0), s(1, "follower", 2, 0), undefined], 3)).toEqual({
      leader: 0,
      term: 2,
    });
    expect(readyLeader([s(0, "leader", 2, 0), undefined, undefined], 3)).toBeUndefined();
    // --only 1,2: the leader r0 runs elsewhere; both local replicas follow it.
    expect(readyLeader([s(1, "follower", 4, 0), s(2, "follower", 4, 0)], 2)).toEqual({
      leader: 0,
      term: 4,
    });
  });
});
