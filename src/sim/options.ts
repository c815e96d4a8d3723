import { type SimService, simServiceLabel } from "./sim-service.js";
/** The kinds of fault the simulator can inject; `--faults` takes a comma-separated list. */
export type FaultKind =
  /** Message loss, duplication and long-tail delays (reordering follows from random delays). */
  | "network"
  /** Partitions: isolate one, two halves, one-way, bridge, majorities ring, isolate the leader. */
  | "partition"
  /** Process crashes with restart. */
  | "crash"
  /** With crash: machine crashes that lose unsynced writes and tear the last record. */
  | "disk"
  /** A node stops for a while, then resumes with stale beliefs. */
  | "pause"
  /** Clocks at different rates and offsets, with jumps. */
  | "clock"
  /** Membership changes under load (protocols that support them). */
  | "membership";

export const allFaults: readonly FaultKind[] = [
  "network",
  "partition",
  "crash",
  "disk",
  "pause",
  "clock",
  "membership",
];

export interface SimOptions {
  readonly protocol: string;
  readonly seed: number;
  /** Replicas in the cluster (default: the protocol's minimum for f). */
  readonly replicas?: number;
  readonly f?: number;
  readonly clients: number;
  /** Simulated seconds of load with faults. */
  readonly duration: number;
  /** Simulated seconds allowed, after faults stop, for every pending operation to complete. */
  readonly livenessBound: number;
  readonly faults: readonly FaultKind[];
  /**
   * Service under test: a built-in (kv, counter, lock), the path of a service module, or a
   * ServicePackage (definition, workload, optional model).
   */
  readonly service: SimService;
  /**
   * Step budget of the linearizability check of the whole history (each partition also has
   * the checker's default per-partition budget). Steps, not time: a seed's verdict, including
   * "unknown", replays the same on every machine.
   */
  readonly checkMaxSteps: number;
  /**
   * Client roles change under load (src/sim/role-changes.ts): the cluster starts with roles and
   * an operator demotes, promotes, revokes and rotates the first clients during the run.
   */
  readonly roles?: boolean;
  /**
   * Twins (src/sim/twins-scenario.ts): one replica runs as two copies on two sides of the
   * network, over the scenario the seed enumerates; the scenario owns the partitions.
   */
  readonly twins?: boolean;
  /** Twins runs: how many replicas are twinned at once (1 to f; default 1). */
  readonly twinCount?: number;
  /**
   * The adversary's faulty client (Byzantine protocols) runs next to the correct clients in 30%
   * of the seeds (src/protocols/pbft/faulty-client.ts).
   */
  readonly faultyClient?: boolean;
  /**
   * The systematic crash sweep (src/sim/crash-sweep.ts): seed S crashes one replica at the one
   * boundary it enumerates, before or after the replica takes it.
   */
  readonly crashSweep?: boolean;
}

export const defaultSimOptions: Omit<SimOptions, "protocol" | "seed"> = {
  clients: 8,
  duration: 10,
  livenessBound: 30,
  faults: allFaults,
  service: "kv",
  checkMaxSteps: 10_000_000,
};

export function parseFaults(text: string): FaultKind[] {
  if (text === "none" || text === "") return [];
  if (text === "all") return [...allFaults];
  const out: FaultKind[] = [];
  for (const part of text.split(",")) {
    const name = part.trim();
    if (!allFaults.includes(name as FaultKind)) {
      throw new Error(
        `unknown fault "${name}"; expected none, all, or a list of ${allFaults.join(", ")}`,
      );
    }
    if (!out.includes(name as FaultKind)) out.push(name as FaultKind);
  }
  return out;
}

/** The exact command that replays one seed. */
export function replayCommand(options: SimOptions): string {
  const parts = [
    "npx lockstep sim",
    `--protocol ${options.protocol}`,
    `--seed ${options.seed}`,
    `--service ${simServiceLabel(options.service)}`,
    `--clients ${options.clients}`,
    `--duration ${options.duration}`,
    `--faults ${options.faults.length === 0 ? "none" : options.faults.join(",")}`,
  ];
  if (options.replicas !== undefined) parts.push(`--replicas ${options.replicas}`);
  if (options.f !== undefined) parts.push(`--f ${options.f}`);
  if (options.roles) parts.push("--roles");
  if (options.twins) parts.push("--twins");
  if (options.twins && (options.twinCount ?? 1) > 1)
    parts.push(`--twin-count ${options.twinCount}`);
  if (options.crashSweep) parts.push("--crash-sweep");
  if (options.faultyClient) parts.push("--faulty-client");
  return parts.join(" ");
}
