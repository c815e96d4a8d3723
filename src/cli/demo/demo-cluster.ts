import { resolve } from "node:path";
import type { ClusterConfig } from "../../core/config.js";
import type { ClusterKeyFile } from "../../net/keys.js";
import { localClusterConfig } from "../../runtime/cluster-folder.js";
import { LocalCluster } from "../../runtime/local-cluster.js";
import type { ReplicaStatus } from "../../runtime/status.js";
import { ReplicaLogs, replicaLogPath } from "../replica-logs.js";
import { ClusterWatch } from "./cluster-watch.js";
import { DemoFailure } from "./demo-failure.js";
import { DemoFaults } from "./demo-faults.js";
import { checkDemoFolder, writeDemoFolder } from "./demo-folder.js";
import type { Screen } from "./screen.js";

export { DemoFailure } from "./demo-failure.js";

export const replicaCount = 3;

/**
 * The demo's cluster: three Raft replica processes on 127.0.0.1, on ports free a moment ago (not
 * the 7400s `lockstep init` suggests, so the demo runs beside a real cluster), with their logs
 * teed into the demo folder and into a ClusterWatch. Unexpected exits are narrated. The demo and
 * its dashboard's buttons kill and start replicas through `faults`.
 */
export class DemoCluster {
  readonly dir: string;
  readonly config: ClusterConfig;
  readonly keys: ClusterKeyFile;
  readonly cluster: LocalCluster;
  readonly watch: ClusterWatch;
  readonly faults: DemoFaults;
  private readonly logs: ReplicaLogs;

  private constructor(dir: string, config: ClusterConfig, screen: Screen) {
    this.dir = dir;
    this.config = config;
    const { folder, keys } = writeDemoFolder(dir, config);
    this.keys = keys;
    this.logs = new ReplicaLogs(dir, (id, file, error) =>
      screen.say(`r${id}: cannot write ${file}: ${error.message}`),
    );
    this.watch = new ClusterWatch(replicaCount, screen.elapsed);
    this.faults = new DemoFaults(config, () => this.cluster, screen.say.bind(screen));
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
        if (!this.faults.unexpectedExit(id)) return;
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

  /** SIGKILLs replica `id` (a DemoFailure if a dashboard user already stopped it). */
  kill(id: number): Promise<void> {
    return this.faults.kill(id);
  }

  startAll(): void {
    this.faults.startAll();
  }

  /** Starts replica `id` again (a DemoFailure if a dashboard user already did). */
  start(id: number): void {
    this.faults.start(id);
  }

  /** Stops every replica process (SIGTERM, then SIGKILL after a grace period). */
  async stop(graceMs?: number): Promise<void> {
    this.faults.halt();
    try {
      await this.cluster.stop(graceMs);
    } finally {
      this.logs.close();
    }
  }
}
