import { resolve } from "node:path";
import type { ClusterConfig } from "../../core/config.js";
import type { ClusterKeyFile } from "../../net/keys.js";
import type { ByzantineBehaviour } from "../../runtime/byzantine-replica.js";
import { localClusterConfig } from "../../runtime/cluster-folder.js";
import { LocalCluster } from "../../runtime/local-cluster.js";
import type { ReplicaStatus } from "../../runtime/status.js";
import { ReplicaLogs, replicaLogPath } from "../replica-logs.js";
import { ClusterWatch } from "./cluster-watch.js";
import { DemoFailure } from "./demo-failure.js";
import { DemoFaults } from "./demo-faults.js";
import { checkDemoFolder, writeDemoFolder } from "./demo-folder.js";
import type { Screen } from "./screen.js";

export const pbftReplicaCount = 4;

/**
 * Checkpoints every 16 sequence numbers, window 32: small enough that a replica kept down for a
 * few seconds of demo load finds the others a window ahead and catches up by state transfer.
 */
const demoSettings = { checkpointInterval: 16, windowSize: 32 };

/** PBFT's protocol details in /status, as far as the demo reads them. */
export interface PbftDetails {
  readonly stableCheckpoint?: number;
  readonly drops?: Readonly<Record<string, number>>;
  readonly viewChanges?: Readonly<Record<string, number>>;
  readonly byzantine?: string;
  readonly lies?: number;
}

export function pbftDetails(s: ReplicaStatus | undefined): PbftDetails {
  return (s?.details ?? {}) as PbftDetails;
}

/**
 * The PBFT demo's cluster: four replica processes on 127.0.0.1 (free ports), logs teed into the
 * demo folder and a ClusterWatch; a replica can be restarted Byzantine (`--byzantine`).
 */
export class PbftDemoCluster {
  readonly dir: string;
  readonly keys: ClusterKeyFile;
  readonly cluster: LocalCluster;
  readonly watch: ClusterWatch;
  /** How the demo and its dashboard's buttons kill and start replicas (and who lies). */
  readonly faults: DemoFaults;
  private readonly logs: ReplicaLogs;

  private constructor(
    dir: string,
    readonly config: ClusterConfig,
    screen: Screen,
  ) {
    this.dir = dir;
    const { folder, keys } = writeDemoFolder(dir, config);
    this.keys = keys;
    this.logs = new ReplicaLogs(dir, (id, file, error) =>
      screen.say(`r${id}: cannot write ${file}: ${error.message}`),
    );
    this.watch = new ClusterWatch(pbftReplicaCount, screen.elapsed);
    this.faults = new DemoFaults(config, () => this.cluster, screen.say.bind(screen));
    this.cluster = new LocalCluster({
      config,
      configFile: folder.configFile,
      keyFile: folder.keyFile,
      dataDir: folder.dataDir,
      detached: true,
      replicaArgs: (id) => this.faults.replicaArgs(id),
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
  }

  static async create(dir: string, screen: Screen): Promise<PbftDemoCluster> {
    const absolute = resolve(dir);
    checkDemoFolder(absolute);
    const base = await localClusterConfig("pbft", pbftReplicaCount);
    const config = { ...base, settings: { ...(base.settings as object), ...demoSettings } };
    return new PbftDemoCluster(absolute, config, screen);
  }

  get ports(): readonly number[] {
    return this.config.replicas.map((r) => r.port!);
  }

  get up(): number {
    return this.cluster.children.filter((c) => c?.alive === true).length;
  }

  /** The primary that 2f+1 replicas follow (not `exclude`), or a DemoFailure after 15 s. */
  async primary(failure: string, exclude?: number): Promise<ReplicaStatus> {
    try {
      return await this.cluster.waitForLeader(15_000, exclude);
    } catch (error) {
      throw new DemoFailure(`${failure} (${(error as Error).message})`);
    }
  }

  /** SIGKILLs replica `id` (a DemoFailure if a dashboard user already stopped it). */
  kill(id: number): Promise<void> {
    return this.faults.kill(id);
  }

  /**
   * Starts replica `id` again, lying as `behaviour` says, or correct when it is undefined (a
   * DemoFailure if a dashboard user already started it, or made another replica lie).
   */
  start(id: number, behaviour?: ByzantineBehaviour): void {
    this.faults.start(id, behaviour);
  }

  startAll(): void {
    this.faults.startAll();
  }

  async stop(graceMs?: number): Promise<void> {
    this.faults.halt();
    try {
      await this.cluster.stop(graceMs);
    } finally {
      this.logs.close();
    }
  }
}
