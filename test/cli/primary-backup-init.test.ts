import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadClusterConfig } from "../../src/runtime/config-file.js";
import { freeBasePort } from "./free-ports.js";
import { waitFor } from "./primary-backup-processes.js";
import { cliPath, runCli, runCliAsync } from "./run-cli.js";

// `lockstep init --protocol primary-backup`, then `up`, `kv` and `status` as a user runs them.
// `npm test` builds dist/ first; with vitest alone, run `npm run build` before.

const dirs: string[] = [];
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill("SIGKILL");
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function newDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "lockstep-pb-init-"));
  dirs.push(dir);
  return dir;
}

describe("lockstep init --protocol primary-backup", () => {
  it("writes the pair, a spare, the Raft arbiter group and the keys (mode 0600)", async () => {
    const dir = newDir();
    const base = await freeBasePort();
    const init = runCli([
      "init",
      "--protocol",
      "primary-backup",
      "--spares",
      "1",
      "--dir",
      dir,
      "--base-port",
      String(base),
    ]);
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toMatch(/of 3 replica\(s\) \(f = 1\)/);
    expect(init.stdout).toMatch(/arbiter: a 3-replica Raft group running the arbiter service/);
    const pair = loadClusterConfig(join(dir, "cluster.json"));
    const arbiter = loadClusterConfig(join(dir, "arbiter", "cluster.json"));
    expect(pair.protocol).toBe("primary-backup");
    expect(arbiter).toMatchObject({ protocol: "raft", f: 1, service: "arbiter" });
    expect(arbiter.replicas).toHaveLength(3);
    expect(arbiter.clients?.roles).toMatchObject({
      "pb-0": "write",
      "pb-1": "write",
      "pb-2": "write",
    });
    expect(arbiter.clients?.defaultRole).toBe("read");
    const keys = readdirSync(join(dir, "keys")).sort();
    expect(keys).toEqual(
      expect.arrayContaining([
        "arbiter-client-0.json",
        "arbiter-client-1.json",
        "arbiter-client-2.json",
      ]),
    );
    for (const file of [
      ...keys.map((k) => join(dir, "keys", k)),
      join(dir, "arbiter", "keys", "cluster-keys.json"),
    ])
      expect(statSync(file).mode & 0o777, file).toBe(0o600);
  });

  it.each([
    [["--arbiter", "paxos"], /--arbiter must be raft .* or single/],
    [["--spares", "9"], /--spares/],
    [["--replicas", "3"], /primary-backup runs a pair; add replicas with --spares N/],
    [["--arbiter-hosts", "a1,a2"], /--arbiter-hosts names 2 host\(s\); the raft arbiter has 3/],
  ])("refuses %j with one line and exit code 2", (args, message) => {
    const r = runCli([
      "init",
      "--protocol",
      "primary-backup",
      "--dir",
      join(newDir(), "x"),
      ...args,
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("--arbiter single: up runs the arbiter and the pair, kv works, status labels the single arbiter", async () => {
    const dir = newDir();
    const base = await freeBasePort();
    const init = runCli([
      "init",
      "--protocol",
      "primary-backup",
      "--arbiter",
      "single",
      "--dir",
      dir,
      "--base-port",
      String(base),
    ]);
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toMatch(
      /ONE single-protocol process \(demo only: a single point of failure/,
    );
    const config = join(dir, "cluster.json");
    const up = spawn(process.execPath, [cliPath, "up", "--config", config, "--log-level", "warn"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(up);
    let out = "";
    up.stdout?.setEncoding("utf8").on("data", (d: string) => (out += d));
    await waitFor(
      `up to report both clusters ready:\n${out}`,
      async () =>
        /^arbiter cluster ready/m.test(out) && /^cluster ready: leader r\d, epoch \d+/m.test(out)
          ? true
          : undefined,
      20_000,
    );
    const keys = join(dir, "keys", "client-cli.json");
    const put = await runCliAsync(["kv", "put", "k", "v1", "--config", config, "--keys", keys]);
    expect(put.code, put.stderr).toBe(0);
    const get = await runCliAsync(["kv", "get", "k", "--config", config, "--keys", keys]);
    expect(JSON.parse(get.stdout)).toEqual({ ok: true, value: "v1" });
    const status = await runCliAsync(["status", "--config", config]);
    expect(status.code, status.stdout).toBe(0);
    expect(status.stdout).toMatch(/^r\d\s+primary\s+\d+/m);
    expect(status.stdout).toMatch(/^r\d\s+backup\s+\d+/m);
    expect(status.stdout).toMatch(
      /^arbiter: single process \(demo only: a single point of failure\), leader r0/m,
    );
    // --json: the pair's statuses, then one entry for the arbiter with its replicas' statuses.
    const json = await runCliAsync(["status", "--config", config, "--json"]);
    expect(json.code, json.stdout).toBe(0);
    const list = JSON.parse(json.stdout) as Record<string, unknown>[];
    expect(list).toHaveLength(3);
    expect(
      list
        .slice(0, 2)
        .map((s) => s.role)
        .sort(),
    ).toEqual(["backup", "primary"]);
    const arbiter = list[2]!.arbiter as Record<string, unknown>;
    expect(arbiter).toMatchObject({
      kind: "single",
      singlePointOfFailure: true,
      replicas: 1,
      answering: 1,
      leader: 0,
      healthy: true,
    });
    const arbiterStatuses = arbiter.statuses as { service: string; leads: boolean }[];
    expect(arbiterStatuses).toHaveLength(1);
    expect(arbiterStatuses[0]).toMatchObject({ service: "arbiter", leads: true });
    const exited = new Promise<number | null>((resolve) => up.once("exit", resolve));
    up.kill("SIGINT");
    expect(await exited).toBe(0);
    expect(out).toMatch(/^arbiter r0 exited/m);
  }, 40_000);

  it("up --only splits the pair and the arbiter: a0 alone in one up, the pair in another", async () => {
    const dir = newDir();
    const base = await freeBasePort();
    const init = runCli([
      "init",
      "--protocol",
      "primary-backup",
      "--arbiter",
      "single",
      "--dir",
      dir,
      "--base-port",
      String(base),
    ]);
    expect(init.code, init.stderr).toBe(0);
    const config = join(dir, "cluster.json");
    const start = (only: string) => {
      const child = spawn(
        process.execPath,
        [cliPath, "up", "--config", config, "--only", only, "--log-level", "warn"],
        { stdio: ["ignore", "pipe", "pipe"] },
      );
      children.push(child);
      const seen = { out: "" };
      child.stdout?.setEncoding("utf8").on("data", (d: string) => (seen.out += d));
      return { child, seen };
    };
    const arbiterUp = start("a0");
    await waitFor(
      `the arbiter-only up to report its cluster ready:\n${arbiterUp.seen.out}`,
      async () => (/^arbiter cluster ready/m.test(arbiterUp.seen.out) ? true : undefined),
      20_000,
    );
    const pairUp = start("0,1");
    await waitFor(
      `the pair's up to report a primary:\n${pairUp.seen.out}`,
      async () =>
        /^cluster ready: leader r\d, epoch \d+/m.test(pairUp.seen.out) ? true : undefined,
      20_000,
    );
    const keys = join(dir, "keys", "client-cli.json");
    const put = await runCliAsync(["kv", "put", "k", "v1", "--config", config, "--keys", keys]);
    expect(put.code, put.stderr).toBe(0);
    // Each up ran only what --only named: the arbiter's lines in one, the pair's in the other.
    expect(
      arbiterUp.seen.out.split("\n").filter((l) => l !== "" && !l.startsWith("arbiter ")),
    ).toEqual([]);
    expect(pairUp.seen.out).not.toMatch(/^arbiter /m);
    for (const { child } of [pairUp, arbiterUp]) {
      const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
      child.kill("SIGINT");
      expect(await exited).toBe(0);
    }
  }, 60_000);

  it.each([
    [["--only", "a1"], /--only names arbiter replica\(s\) a1, but the arbiter has 1 \(a0\)/],
    [["--only", "arbiter,a0"], /--only names "arbiter" and arbiter replicas a<i>/],
    [["--only", "0,a0,a0"], /--only names arbiter replica a0 twice/],
    [
      ["--only", "x"],
      /--only expects replica ids from 0 to 1, arbiter replicas a0, a1, ... or "arbiter"/,
    ],
  ])("up %j refuses with one line and exit code 2", async (args, message) => {
    const dir = newDir();
    const init = runCli([
      "init",
      "--protocol",
      "primary-backup",
      "--arbiter",
      "single",
      "--dir",
      dir,
      "--base-port",
      String(await freeBasePort()),
    ]);
    expect(init.code, init.stderr).toBe(0);
    const r = await runCliAsync(["up", "--config", join(dir, "cluster.json"), ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });
});
