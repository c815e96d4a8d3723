import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { arbiterPaths } from "../runtime/arbiter-args.js";
import { clusterFolder } from "../runtime/cluster-folder.js";
import {
  ConfigFileError,
  loadClusterConfig,
  runtimeConfigProblems,
} from "../runtime/config-file.js";
import type { LogLevel } from "../runtime/logger.js";
import { UsageError } from "./args.js";
import type { Supervisor, SupervisorOptions } from "./up-supervisor.js";

/** What `lockstep up` runs until a signal: one Supervisor, or several as one. */
export type Supervised = Pick<Supervisor, "allDown" | "start" | "stop" | "kill" | "killNow">;

/**
 * The arbiter group of a primary/backup cluster (DIR/arbiter/ of lockstep init), run by the same
 * `lockstep up` with the same restart policy; its logs go to <logs>/arbiter/. `ids`: the arbiter
 * replicas to run here (`up --only a0,...`), or all of them.
 */
export function planArbiter(
  pairConfigFile: string,
  options: {
    readonly logLevel: LogLevel;
    readonly restart: boolean;
    readonly logsDir: string;
    readonly ids: readonly number[] | "all";
  },
): Omit<SupervisorOptions, "print"> {
  const configFile = arbiterPaths(pairConfigFile, 0).configFile;
  let config: ReturnType<typeof loadClusterConfig>;
  try {
    config = loadClusterConfig(configFile);
  } catch (error) {
    if (error instanceof ConfigFileError)
      throw new UsageError(`up: the arbiter of a primary-backup cluster: ${error.message}`);
    throw error;
  }
  const size = config.replicas.length;
  const outside = options.ids === "all" ? [] : options.ids.filter((id) => id >= size);
  if (outside.length > 0)
    throw new UsageError(
      `up: --only names arbiter replica(s) ${outside.map((id) => `a${id}`).join(", ")}, but the arbiter has ${size} (a0${size > 1 ? ` to a${size - 1}` : ""})`,
    );
  const ids = options.ids === "all" ? config.replicas.map((_, id) => id) : [...options.ids];
  const problems = [...new Set(ids.flatMap((id) => runtimeConfigProblems(config, id)))];
  if (problems.length > 0) throw new UsageError(`up: ${configFile}: ${problems.join("; ")}`);
  const folder = clusterFolder(configFile);
  const missing = ids.map(folder.keyFile).filter((file) => !existsSync(file));
  if (missing.length > 0)
    throw new UsageError(`up: missing arbiter key file(s) ${missing.join(", ")}`);
  const logsDir = join(options.logsDir, "arbiter");
  mkdirSync(logsDir, { recursive: true });
  return {
    config,
    configFile,
    keyFile: folder.keyFile,
    dataDir: folder.dataDir,
    service: "arbiter",
    logLevel: options.logLevel,
    ids,
    restart: options.restart,
    logsDir,
  };
}

/** Several supervisors run, stopped and killed together; all down once each is. */
export class SupervisorGroup implements Supervised {
  readonly allDown: Promise<void>;

  constructor(private readonly members: readonly Supervised[]) {
    // Down for good once the last primary/backup replica is: the arbiter alone serves nobody.
    this.allDown = members.at(-1)?.allDown ?? Promise.resolve();
  }

  start(): void {
    for (const m of this.members) m.start();
  }

  async stop(graceMs: number): Promise<void> {
    // The pair first (the last member): it may still be asking the arbiter.
    for (const m of [...this.members].reverse()) await m.stop(graceMs);
  }

  async kill(): Promise<void> {
    await Promise.all(this.members.map((m) => m.kill()));
  }

  killNow(): void {
    for (const m of this.members) m.killNow();
  }
}
