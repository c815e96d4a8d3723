import { resolve } from "node:path";
import type { ClusterConfig } from "../../core/config.js";
import type { ClusterKeyFile } from "../../net/keys.js";
import { localClusterConfig } from "../../runtime/cluster-folder.js";
import { LocalCluster } from "../../runtime/local-cluster.js";
import type { ReplicaStatus } from "../../runtime/status.js";
import { ReplicaLogs, replicaLogPath } from "../replica-logs.js";
import { ClusterWatch } from "./cluster-watch.js";
import { checkDemoFolder, writeDemoFolder } from "./demo-folder.js";
import type { Screen } from "./screen.js";

/** Why the demo failed (exit 1): the cluster did not do what the demo shows it doing. */
export class DemoFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DemoFailure";
  }
}

export const replicaCount = 3;

/**
 * The demo's cluster: three Raft replica processes on 127.0.0.1, on ports free a moment ago (not
 * the 7400s `lockstep init` suggests, so the demo runs beside a real cluster), with their logs
 * teed into the demo folder and into a ClusterWatch. Unexpected exits are narrated.
 */
export class DemoCluster {
  readonly dir: string;
  readonly config: ClusterConfig;
  readonly keys: ClusterKeyFile;
  readonly cluster: LocalCluster;
  readonly watch: ClusterWatch;
  private readonly logs: ReplicaLogs;
  /** Replicas the demo itself killed: their exit is news to nobody. */
  private readonly expectedExits = new Set<number>();
  /** Set once the demo is stopping everything: exits are expected from then on. */
  private ending = false;

  private constructor(dir: string, config: ClusterConfig, screen: Screen) {
    this.dir = dir;
    this.config = config;
    const { folder, keys } = writeDemoFolder(dir, config);
    this.keys = keys;
    this.logs = new ReplicaLogs(dir, (id, file, error) =>
      screen.say(`r${id}: cannot write ${file}: ${error.message}`),
    );
    this.watch = new ClusterWatch(replicaCount, screen.elapsed);
    this.cluster = new LocalCluster({
      config,
      configFile: folder.configFile,
      keyFile: folder.keyFile,
      dataDir: folder.dataDir,
      // Ctrl-C reaches only the demo, which then stops the replicas in order (see onSignal).
      detached: true,
      onOutput: (id, output) => {
        this.logs.write(id, output);
        this.watch.onOutput(id, output);
      },
      onExit: (id, code, signal) => {
        this.watch.onExit(id);
        if (this.ending || this.expectedExits.delete(id)) return;
        const how = signal ?? `exit code ${code}`;
        screen.say(`r${id} exited unexpectedly (${how}); see ${replicaLogPath(dir, id)}`);
      },
    });
  }

  /** Checks the folder (UsageError if it is not the demo's), then wipes and writes it. */
  static async create(dir: string, screen: Screen): Promise<DemoCluster> {
    const absolute = resolve(dir);
    checkDemoFolder(absolute);
    const config = await localClusterConfig("raft", replicaCount);
    return new DemoCluster(absolute, config, screen);
  }

  get ports(): readonly number[] {
    return this.config.replicas.map((r) => r.port!);
  }

  get up(): number {
    return this.cluster.children.filter((c) => c?.alive === true).length;
  }

  /** The established leader (a majority names it), or a DemoFailure after 15 s. */
  async leader(failure: string, exclude?: number): Promise<ReplicaStatus> {
    try {
      return await this.cluster.waitForLeader(15_000, exclude);
    } catch (error) {
      throw new DemoFailure(`${failure} (${(error as Error).message})`);
    }
  }

  async kill(id: number): Promise<void> {
    this.expectedExits.add(id);
    await this.cluster.kill(id, "SIGKILL");
  }

  /** Stops every replica process (SIGTERM, then SIGKILL after a grace period). */
  async stop(graceMs?: number): Promise<void> {
    this.ending = true;
    try {
      await this.cluster.stop(graceMs);
    } finally {
      this.logs.close();
    }
  }
}
