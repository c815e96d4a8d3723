import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { connect, type LockstepClient } from "../../src/client/index.js";
import type { Value } from "../../src/core/value.js";
import { readKeyFile } from "../../src/net/keys.js";
import { loadClusterConfig } from "../../src/runtime/config-file.js";
import type { ReplicaStatus } from "../../src/runtime/status.js";
import { freeBasePort } from "./free-ports.js";
import { cliPath, runCli, runCliAsync } from "./run-cli.js";

// A PBFT cluster of real processes, made by `lockstep init --protocol pbft`, on 127.0.0.1.
// `npm test` builds dist/ first; with vitest alone, run `npm run build` before.

const dirs: string[] = [];
const children: ChildProcess[] = [];
const clients: LockstepClient[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  for (const c of children.splice(0)) c.kill("SIGKILL");
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function statusOf(metricsPort: number): Promise<ReplicaStatus | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${metricsPort}/status`, {
      signal: AbortSignal.timeout(1_000),
    });
    return response.ok ? ((await response.json()) as ReplicaStatus) : undefined;
  } catch {
    return undefined;
  }
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, ms: number) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await sleep(100);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

describe("a PBFT cluster of real processes", () => {
  it("init, replicas, connect(): writes survive a SIGKILLed primary through a view change, and it rejoins", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lockstep-pbft-"));
    dirs.push(dir);
    const base = await freeBasePort();
    const init = runCli(["init", "--protocol", "pbft", "--dir", dir, "--base-port", String(base)]);
    expect(init.stderr).toBe("");
    expect(init.code).toBe(0);
    expect(init.stdout).toContain("of 4 replica(s) (f = 1)");
    const config = loadClusterConfig(join(dir, "cluster.json"));
    expect(config.protocol).toBe("pbft");
    const metricsPort = (id: number) => config.replicas[id]!.metricsPort!;

    const start = (id: number): ChildProcess => {
      const child = spawn(
        process.execPath,
        [
          cliPath,
          "replica",
          "--config",
          join(dir, "cluster.json"),
          "--keys",
          join(dir, "keys", `replica-${id}.json`),
          "--id",
          String(id),
          "--data",
          join(dir, `data-${id}`),
          "--log-level",
          "warn",
        ],
        { stdio: ["ignore", "ignore", "inherit"] },
      );
      children.push(child);
      return child;
    };
    const replicas = config.replicas.map((r) => start(r.id));
    for (const r of config.replicas) {
      await waitFor(`r${r.id} /status`, () => statusOf(metricsPort(r.id)), 10_000);
    }

    const client = await connect({
      config,
      keys: readKeyFile(join(dir, "keys", "client-cli.json")),
      timeoutMs: 2_000,
    });
    clients.push(client);
    // A voting client dials every replica before it sends anything: backups must be able to
    // answer requests that reach them only through the primary.
    for (const r of config.replicas) {
      await waitFor(
        `a client connection at r${r.id}`,
        async () => ((await statusOf(metricsPort(r.id)))?.clientsConnected ?? 0) > 0 || undefined,
        5_000,
      );
    }
    const acknowledged = new Map<string, Value>();
    const put = async (key: string, value: string): Promise<void> => {
      await client.invoke({ op: "put", key, value });
      acknowledged.set(key, value);
    };
    for (let i = 0; i < 10; i++) await put(`k${i}`, `v${i}`);
    expect(await client.query({ op: "get", key: "k3" })).toEqual({ ok: true, value: "v3" });

    // `lockstep status` names the primary (r0 in view 0) and shows the stable checkpoint.
    const before = await runCliAsync(["status", "--config", join(dir, "cluster.json")]);
    expect(before.code).toBe(0);
    const named = /primary: r(\d) \(view 0\); 4\/4 replicas answering/.exec(before.stdout);
    expect(named, before.stdout).not.toBeNull();
    const primaryId = Number(named![1]);
    expect(before.stdout).toMatch(/\bcheckpoint\b/);
    const primary = (await statusOf(metricsPort(primaryId)))!;
    expect(primary.role).toBe("primary");
    expect(primary.details).toMatchObject({ stableCheckpoint: 0 });

    // SIGKILL the primary and keep writing: the backups must change view.
    replicas[primaryId]!.kill("SIGKILL");
    for (let i = 10; i < 30; i++) {
      for (let attempt = 0; ; attempt++) {
        try {
          await put(`k${i}`, `v${i}`);
          break;
        } catch (error) {
          // A timed-out put is retried with the same sequence number by the client core.
          if (attempt >= 10) throw error;
        }
      }
    }
    const witness = (primaryId + 1) % 4;
    const after = await waitFor(
      "a primary in a later view",
      async () => {
        const s = await statusOf(metricsPort(witness));
        return s && s.term > 0 && s.leader !== primaryId ? s : undefined;
      },
      10_000,
    );
    expect(after.term).toBeGreaterThan(0);

    // A client that connects only now (what `lockstep kv` does) believes in view 0, whose
    // primary is gone: it must find the new primary and open its session without it.
    const late = await connect({
      config,
      keys: readKeyFile(join(dir, "keys", "client-cli.json")),
      timeoutMs: 8_000,
    });
    clients.push(late);
    await late.invoke({ op: "put", key: "late", value: "yes" });
    acknowledged.set("late", "yes");

    // The killed replica restarts from its data directory and catches up with the others.
    start(primaryId);
    for (let i = 30; i < 35; i++) await put(`k${i}`, `v${i}`);
    const target = (await statusOf(metricsPort(witness)))!.appliedIndex;
    const rejoined = await waitFor(
      `r${primaryId} to rejoin and execute up to ${target}`,
      async () => {
        const s = await statusOf(metricsPort(primaryId));
        return s && s.appliedIndex >= target && s.term === after.term ? s : undefined;
      },
      10_000,
    );
    expect(rejoined.role).toBe("backup");

    // Every acknowledged write reads back.
    for (const [key, value] of acknowledged) {
      expect(await client.query({ op: "get", key })).toEqual({ ok: true, value });
    }
    expect(acknowledged.size).toBe(36);

    const later = await runCliAsync(["status", "--config", join(dir, "cluster.json")]);
    expect(later.stdout).toMatch(/primary: r\d \(view [1-9]\d*\); 4\/4 replicas answering/);
    expect(later.stdout).not.toMatch(new RegExp(`primary: r${primaryId} `));
    expect(later.code).toBe(0);
  }, 40_000);
});
