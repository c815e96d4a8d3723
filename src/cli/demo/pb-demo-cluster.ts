import { join, resolve } from "node:path";
import { connect } from "../../client/index.js";
import type { ClusterConfig } from "../../core/config.js";
import { type ClusterKeyFile, readKeyFile } from "../../net/keys.js";
import { freePorts, localClusterConfig } from "../../runtime/cluster-folder.js";
import { LocalCluster } from "../../runtime/local-cluster.js";
import type { ReplicaStatus } from "../../runtime/status.js";
import { arbiterConfig, writeArbiter } from "../init-arbiter.js";
import { ReplicaLogs, replicaLogPath } from "../replica-logs.js";
import { ClusterWatch } from "./cluster-watch.js";
import { DemoFailure } from "./demo-failure.js";
import { DemoFaults } from "./demo-faults.js";
import { checkDemoFolder, writeDemoFolder } from "./demo-folder.js";
import type { Screen } from "./screen.js";

/** The pair: a primary and a backup. */
export const pairSize = 2;
const arbiterSize = 3;

/**
 * The primary/backup demo's processes on 127.0.0.1 (free ports): the pair running kv, and its
 * arbiter, a 3-replica Raft group running the arbiter service, in the folder layout of `lockstep
 * init --protocol primary-backup` (the pair's logs in DIR, the arbiter's in DIR/arbiter).
 */
export class PbDemoCluster {
  readonly pair: LocalCluster;
  readonly arbiter: LocalCluster;
  readonly watch: ClusterWatch;
  /** How the demo and its dashboard's buttons kill and start the pair's replicas. */
  readonly faults: DemoFaults;
  /** The same for the arbiter group's replicas (only the dashboard's buttons act on them). */
  readonly arbiterFaults: DemoFaults;
  private readonly logs: ReplicaLogs;
  private readonly arbiterLogs: ReplicaLogs;

  private constructor(
    readonly dir: string,
    readonly config: ClusterConfig,
    readonly keys: ClusterKeyFile,
    readonly arbiterConfig: ClusterConfig,
    screen: Screen,
  ) {
    const arbiterDir = join(dir, "arbiter");
    this.logs = new ReplicaLogs(dir, (id, file, error) =>
      screen.say(`r${id}: cannot write ${file}: ${error.message}`),
    );
    this.arbiterLogs = new ReplicaLogs(arbiterDir, (id, file, error) =>
      screen.say(`arbiter r${id}: cannot write ${file}: ${error.message}`),
    );
    this.watch = new ClusterWatch(pairSize, screen.elapsed);
    this.faults = new DemoFaults(config, () => this.pair, screen.say.bind(screen));
    this.arbiterFaults = new DemoFaults(
      arbiterConfig,
      () => this.arbiter,
      (line) => screen.say(`arbiter ${line}`),
      "arbiter r",
    );
    this.pair = new LocalCluster({
      config,
      configFile: join(dir, "cluster.json"),
      keyFile: (id) => join(dir, "keys", `replica-${id}.json`),
      dataDir: (id) => join(dir, `data-${id}`),
      detached: true,
      onOutput: (id, output) => {
        this.logs.write(id, output);
        this.watch.onOutput(id, output);
      },
      onExit: (id, code, signal) => {
        this.watch.onExit(id);
        if (!this.faults.unexpectedExit(id)) return;
        screen.say(
          `r${id} exited unexpectedly (${signal ?? `exit code ${code}`}); see ${replicaLogPath(dir, id)}`,
        );
      },
    });
    this.arbiter = new LocalCluster({
      config: arbiterConfig,
      configFile: join(arbiterDir, "cluster.json"),
      keyFile: (id) => join(arbiterDir, "keys", `replica-${id}.json`),
      dataDir: (id) => join(arbiterDir, `data-${id}`),
      service: "arbiter",
      detached: true,
      onOutput: (id, output) => this.arbiterLogs.write(id, output),
      onExit: (id, code, signal) => {
        if (!this.arbiterFaults.unexpectedExit(id)) return;
        screen.say(`arbiter r${id} exited unexpectedly (${signal ?? `exit code ${code}`})`);
      },
    });
  }

  /** Checks the folder (UsageError if it is not the demo's), then wipes and writes it. */
  static async create(dir: string, screen: Screen): Promise<PbDemoCluster> {
    const absolute = resolve(dir);
    checkDemoFolder(absolute);
    const config = await localClusterConfig("primary-backup", pairSize);
    const ports = await freePorts(2 * arbiterSize);
    const addresses = Array.from({ length: arbiterSize }, (_, i) => ({
      host: "127.0.0.1",
      port: ports[i]!,
      metricsPort: ports[arbiterSize + i]!,
    }));
    const arbiter = arbiterConfig("raft", "demo", addresses, pairSize, config.tickMs);
    const { keys } = writeDemoFolder(absolute, config);
    writeArbiter(absolute, arbiter, pairSize);
    return new PbDemoCluster(absolute, config, keys, arbiter, screen);
  }

  /** Names the demo's current step (for lines about the dashboard's users' actions). */
  enter(step: string): void {
    this.faults.enter(step);
    this.arbiterFaults.enter(step);
  }

  get up(): number {
    return this.pair.children.filter((c) => c?.alive === true).length;
  }

  startAll(): void {
    this.arbiterFaults.startAll();
    this.faults.startAll();
  }

  /** The live primary of an epoch above `after`, other than `exclude`; DemoFailure after 15 s. */
  async primary(failure: string, after = 0, exclude?: number): Promise<ReplicaStatus> {
    const deadline = performance.now() + 15_000;
    for (;;) {
      const found = (await this.pair.statuses(500)).find(
        (s) => s?.leads === true && s.term > after && s.replica !== exclude,
      );
      if (found) return found;
      if (performance.now() > deadline) throw new DemoFailure(failure);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Replica `id` as the backup of the live primary, applied up to `index`; or undefined. */
  async backupAt(id: number, index: number): Promise<ReplicaStatus | undefined> {
    const statuses = await this.pair.statuses(500);
    const primary = statuses.find((s) => s?.leads === true);
    const s = statuses[id];
    return primary &&
      s &&
      !s.leads &&
      s.term === primary.term &&
      s.leader === primary.replica &&
      s.appliedIndex >= index
      ? s
      : undefined;
  }

  /** The arbiter group's leader now (for the narration), if one answers. */
  async arbiterLeader(): Promise<ReplicaStatus | undefined> {
    return (await this.arbiter.statuses(500)).find((s) => s?.leads === true);
  }

  /** What the arbiter recorded for `epoch`: its winner, read through the arbiter's own client. */
  async arbiterWinner(epoch: number): Promise<number | null> {
    const client = await connect({
      config: this.arbiterConfig,
      keys: readKeyFile(join(this.dir, "arbiter", "keys", "client-cli.json")),
      timeoutMs: 2_000,
    });
    try {
      const answer = (await client.query({ op: "winner", epoch })) as { winner?: unknown };
      return typeof answer.winner === "number" ? answer.winner : null;
    } finally {
      await client.close();
    }
  }

  /** SIGKILLs replica `id` of the pair (a DemoFailure if a dashboard user already stopped it). */
  kill(id: number): Promise<void> {
    return this.faults.kill(id);
  }

  /** Starts replica `id` of the pair again (a DemoFailure if a dashboard user already did). */
  start(id: number): void {
    this.faults.start(id);
  }

  async stop(graceMs?: number): Promise<void> {
    this.faults.halt();
    this.arbiterFaults.halt();
    try {
      await this.pair.stop(graceMs);
      await this.arbiter.stop(graceMs);
    } finally {
      this.logs.close();
      this.arbiterLogs.close();
    }
  }
}
