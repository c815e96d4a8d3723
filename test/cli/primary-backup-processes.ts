import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ClusterConfig } from "../../src/core/config.js";
import { type ClientKeyFile, clientKeyFile, readKeyFile } from "../../src/net/keys.js";
import { loadClusterConfig } from "../../src/runtime/config-file.js";
import type { ReplicaStatus } from "../../src/runtime/status.js";
import { freeBasePort } from "./free-ports.js";
import { cliPath, runCli } from "./run-cli.js";

// A primary/backup cluster of real processes made by `lockstep init --protocol primary-backup`
// on 127.0.0.1: the pair (and spares) and the arbiter group, each replica started by
// `lockstep replica` so a test can SIGKILL, SIGSTOP and restart any of them.

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
    await sleep(50);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

async function statusAt(metricsPort: number): Promise<ReplicaStatus | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${metricsPort}/status`, {
      signal: AbortSignal.timeout(1_000),
    });
    return response.ok ? ((await response.json()) as ReplicaStatus) : undefined;
  } catch {
    return undefined;
  }
}

/** One group of processes (the pair, or the arbiter) of one configuration. */
class Group {
  readonly processes: (ChildProcess | undefined)[];
  /** The last stderr lines of each replica, for failure messages. */
  readonly tails: string[][];

  constructor(
    readonly name: string,
    readonly dir: string,
    readonly config: ClusterConfig,
  ) {
    this.processes = config.replicas.map(() => undefined);
    this.tails = config.replicas.map(() => []);
  }

  start(id: number): void {
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
        join(this.dir, `data-${id}`),
        "--log-level",
        "warn",
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      const tail = this.tails[id]!;
      tail.push(...chunk.split("\n").filter((l) => l !== ""));
      tail.splice(0, Math.max(0, tail.length - 20));
    });
    this.processes[id] = child;
  }

  async signal(id: number, signal: NodeJS.Signals): Promise<void> {
    const child = this.processes[id];
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill(signal);
    if (signal === "SIGKILL" || signal === "SIGTERM") {
      await exited;
      this.processes[id] = undefined;
    }
  }

  status(id: number): Promise<ReplicaStatus | undefined> {
    return statusAt(this.config.replicas[id]!.metricsPort!);
  }

  statuses(): Promise<(ReplicaStatus | undefined)[]> {
    return Promise.all(this.config.replicas.map((r) => this.status(r.id)));
  }

  /** Waits for a replica that leads and satisfies `accept`. */
  leader(accept: (s: ReplicaStatus) => boolean = () => true, ms = 15_000): Promise<ReplicaStatus> {
    return waitFor(
      `a ${this.name} leader (logs: ${JSON.stringify(this.tails)})`,
      async () => (await this.statuses()).find((s) => s?.leads === true && accept(s)),
      ms,
    );
  }

  killAll(): void {
    for (const child of this.processes) child?.kill("SIGKILL");
  }
}

export class PbCluster {
  readonly pair: Group;
  readonly arbiter: Group;

  private constructor(readonly dir: string) {
    this.pair = new Group("primary/backup", dir, loadClusterConfig(join(dir, "cluster.json")));
    const arbiterDir = join(dir, "arbiter");
    this.arbiter = new Group(
      "arbiter",
      arbiterDir,
      loadClusterConfig(join(arbiterDir, "cluster.json")),
    );
  }

  /** `lockstep init --protocol primary-backup` into a fresh folder; nothing started yet. */
  static create(initArgs: readonly string[] = []): Promise<PbCluster> {
    return (async () => {
      const dir = mkdtempSync(join(tmpdir(), "lockstep-pb-"));
      for (let attempt = 0; ; attempt++) {
        const base = await freeBasePort();
        const init = runCli([
          "init",
          "--protocol",
          "primary-backup",
          "--dir",
          dir,
          "--base-port",
          String(base),
          ...initArgs,
        ]);
        if (init.code === 0) return new PbCluster(dir);
        // The arbiter's block (base+10.., base+110..) was taken meanwhile: another base.
        rmSync(dir, { recursive: true, force: true });
        if (attempt >= 3) throw new Error(`init failed: ${init.stderr}`);
      }
    })();
  }

  get config(): ClusterConfig {
    return this.pair.config;
  }

  /** Starts the arbiter group and the pair; waits for a primary whose backup is in sync. */
  async startAll(): Promise<ReplicaStatus> {
    for (const r of this.arbiter.config.replicas) this.arbiter.start(r.id);
    for (const r of this.pair.config.replicas) this.pair.start(r.id);
    const primary = await this.pair.leader();
    await this.backupInSync(primary.replica === 0 ? 1 : 0);
    return (await this.pair.status(primary.replica)) ?? primary;
  }

  /** Waits until replica `id` follows the live primary of the newest epoch with lag 0. */
  backupInSync(id: number, ms = 15_000): Promise<ReplicaStatus> {
    return waitFor(
      `r${id} to be an up-to-date backup (logs: ${JSON.stringify(this.pair.tails)})`,
      async () => {
        const statuses = await this.pair.statuses();
        const primary = statuses.find((s) => s?.leads === true);
        const backup = statuses[id];
        if (!primary || !backup || backup.leads) return undefined;
        return backup.term === primary.term &&
          backup.leader === primary.replica &&
          backup.appliedIndex >= primary.commitIndex
          ? backup
          : undefined;
      },
      ms,
    );
  }

  /** A client key for `name` (cluster.json lets every client write). */
  clientKeys(name: string): ClientKeyFile {
    return clientKeyFile(readKeyFile(join(this.dir, "keys", "cluster-keys.json")), name);
  }

  close(): void {
    this.pair.killAll();
    this.arbiter.killAll();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
