import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkLinearizability } from "../../src/check/linearizability/index.js";
import { connect, type LockstepClient } from "../../src/client/index.js";
import type { ClusterConfig } from "../../src/core/config.js";
import { type ClientKeyFile, clientKeyFile, readKeyFile } from "../../src/net/keys.js";
import { loadClusterConfig } from "../../src/runtime/config-file.js";
import type { ReplicaStatus } from "../../src/runtime/status.js";
import { createServiceKit } from "../../src/state-machines/registry.js";
import type { LoadResult } from "../runtime/workload.js";
import { freeBasePort } from "./free-ports.js";
import { cliPath, runCli } from "./run-cli.js";

// A 4-replica PBFT cluster of real `lockstep replica` processes on 127.0.0.1, made by
// `lockstep init --protocol pbft`, for the fault tests. Needs dist/ (npm run build).

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  ms: number,
): Promise<T> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await sleep(100);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

export class PbftProcesses {
  readonly config: ClusterConfig;
  private readonly children = new Map<number, ChildProcess>();
  private readonly clusterKeys;

  private constructor(readonly dir: string) {
    this.config = loadClusterConfig(join(dir, "cluster.json"));
    this.clusterKeys = readKeyFile(join(dir, "keys", "cluster-keys.json"));
  }

  /** `lockstep init --protocol pbft` in a new folder; `settings` are merged into cluster.json's. */
  static async create(settings: Record<string, unknown> = {}): Promise<PbftProcesses> {
    const dir = mkdtempSync(join(tmpdir(), "lockstep-pbft-faults-"));
    const base = await freeBasePort();
    const init = runCli(["init", "--protocol", "pbft", "--dir", dir, "--base-port", String(base)]);
    if (init.code !== 0) throw new Error(`init failed: ${init.stderr}`);
    const file = join(dir, "cluster.json");
    const config = JSON.parse(readFileSync(file, "utf8")) as { settings?: object };
    config.settings = { ...config.settings, ...settings };
    writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`);
    return new PbftProcesses(dir);
  }

  clientKeys(name: string): ClientKeyFile {
    return clientKeyFile(this.clusterKeys, name);
  }

  dataDir(id: number): string {
    return join(this.dir, `data-${id}`);
  }

  /** Starts replica `id` (extra arguments such as --byzantine); its stderr goes to replica-<id>.log. */
  start(id: number, extra: readonly string[] = []): ChildProcess {
    const log = openSync(join(this.dir, `replica-${id}.log`), "a");
    const child = spawn(
      process.execPath,
      [
        cliPath,
        "replica",
        "--config",
        join(this.dir, "cluster.json"),
        "--keys",
        join(this.dir, "keys", `replica-${id}.json`),
        "--id",
        String(id),
        "--data",
        this.dataDir(id),
        "--log-level",
        "warn",
        ...extra,
      ],
      { stdio: ["ignore", "ignore", log] },
    );
    closeSync(log);
    this.children.set(id, child);
    return child;
  }

  log(id: number): string {
    return readFileSync(join(this.dir, `replica-${id}.log`), "utf8");
  }

  async kill(id: number): Promise<void> {
    const child = this.children.get(id);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
  }

  async status(id: number): Promise<ReplicaStatus | undefined> {
    try {
      const port = this.config.replicas[id]!.metricsPort!;
      const response = await fetch(`http://127.0.0.1:${port}/status`, {
        signal: AbortSignal.timeout(1_000),
      });
      return response.ok ? ((await response.json()) as ReplicaStatus) : undefined;
    } catch {
      return undefined;
    }
  }

  async startAll(extra: (id: number) => readonly string[] = () => []): Promise<void> {
    for (const r of this.config.replicas) this.start(r.id, extra(r.id));
    for (const r of this.config.replicas) {
      await waitFor(`r${r.id} /status`, () => this.status(r.id), 10_000);
    }
  }

  /** Waits until every replica in `ids` has executed at least `index`. */
  async converged(ids: readonly number[], index: number, ms = 15_000): Promise<void> {
    for (const id of ids) {
      await waitFor(
        `r${id} to execute up to ${index}`,
        async () => ((await this.status(id))?.appliedIndex ?? -1) >= index || undefined,
        ms,
      );
    }
  }

  async stop(): Promise<void> {
    for (const id of this.children.keys()) await this.kill(id);
    if (process.env.LOCKSTEP_KEEP_TEST_DIRS !== "1")
      rmSync(this.dir, { recursive: true, force: true });
  }
}

/** What the fault tests check after a load: the verdict and every acknowledged unique write read back. */
export async function verifyLoad(
  cluster: PbftProcesses,
  result: LoadResult,
): Promise<{ verdict: string; explanation: string; missing: string[] }> {
  const check = checkLinearizability(createServiceKit("kv").model, result.history);
  const explanation = check.partitions
    .filter((p) => p.verdict !== "ok")
    .map((p) => p.counterexample?.explanation ?? p.unknownReason ?? "")
    .join("\n");
  const missing: string[] = [];
  // Read with a fresh client; when a read gets no answer in time (a shared 2-core machine can be
  // slow), the next attempt uses another fresh client, at most three in all.
  let attempt = 0;
  let reader: LockstepClient | undefined;
  const get = async (key: string): Promise<unknown> => {
    for (;;) {
      reader ??= await connect({
        config: cluster.config,
        keys: cluster.clientKeys(`reader-${attempt}`),
        timeoutMs: 10_000,
      });
      try {
        return ((await reader.query({ op: "get", key })) as { value?: unknown }).value;
      } catch (error) {
        await reader.close();
        reader = undefined;
        if (++attempt >= 3) throw error;
        console.log(
          `read of ${key} failed (${(error as Error).message}); retrying with a new client`,
        );
      }
    }
  };
  try {
    for (const [key, value] of result.acknowledgedUnique) {
      const read = await get(key);
      if (read !== value) missing.push(`${key}: acknowledged ${value}, read ${String(read)}`);
    }
  } finally {
    await reader?.close();
  }
  return { verdict: check.verdict, explanation, missing };
}
