import { type ClusterConfig, ConfigError, validateClusterConfig } from "../core/config.js";
import type { Crypto } from "../core/crypto.js";
import type { ReplicaId } from "../core/ids.js";
import type { Random } from "../core/prng.js";
import type {
  ClientCore,
  ClientOptions,
  ExternalHandler,
  ProtocolCore,
  ProtocolDefinition,
  ProtocolName,
  ReplicaCountRule,
  WireTypes,
} from "../core/protocol.js";
import type { Value } from "../core/value.js";
import { byzantine, byzantineBehaviours } from "./pbft/adversary.js";
import { FaultyPbftClient } from "./pbft/faulty-client.js";
import { createPbftProtocol, pbftPlantedBugs } from "./pbft/index.js";
import {
  createPrimaryBackupProtocol,
  MemoryArbiter,
  primaryBackupPlantedBugs,
} from "./primary-backup/index.js";
import { createRaftProtocol, raftPlantedBugs } from "./raft/index.js";
import { createSingleProtocol } from "./single/index.js";

/** A protocol as the simulator and CLI know it: a definition plus defaults for simulation. */
export interface RegisteredProtocol {
  readonly name: string;
  readonly description: string;
  readonly definition: ProtocolDefinition<WireTypes>;
  /** Faults tolerated by default in simulation. */
  readonly defaultF: number;
  /** Settings that make simulation exercise more paths (small snapshot intervals and so on). */
  /**
   * Settings for one simulated run, drawn from the seed's PRNG: swarm testing over
   * configurations as well as faults (some seeds run without check-quorum, with tiny
   * windows, with snapshots every few entries), so bugs that a default hides still surface.
   */
  readonly simSettings: (
    random: Random,
    /** The run's fault kinds (a setting may only be safe without some of them). */
    faults: readonly string[],
  ) => { readonly [key: string]: Value };
  /** A deliberately broken variant: the simulator is expected to find a violation. */
  readonly broken: boolean;
  /**
   * Supports membership changes: with the `membership` fault the simulator adds `spares` extra
   * replicas to the address book (not voters at the start) and adds and removes members under load.
   */
  readonly membership?: {
    readonly spares: number;
    readonly minVoters: number;
    /** The setting that names the initial voters (default `initialVoters`). */
    readonly votersSetting?: string;
  };
  /**
   * A fresh handler for the protocol's external requests in one simulated run (primary/backup:
   * an in-memory test-and-set arbiter). The simulator calls it synchronously.
   */
  readonly simExternal?: () => ExternalHandler;
  /**
   * Replicas that are not correct in a simulated run, and what they do instead. None by
   * default (raft, single). The PBFT work fills this with its Byzantine catalog.
   */
  readonly adversary?: Adversary;
}

/**
 * Makes some replicas of a run faulty. `pick` chooses them from the seed (at most what the
 * fault model tolerates); `wrap` replaces a faulty replica's core, e.g. by one that stays
 * silent, equivocates or lies. The simulator checks agreement among correct replicas only.
 */
export interface Adversary {
  pick(random: Random, n: number, f: number): readonly ReplicaId[];
  /** `crypto` is the faulty replica's own: it can sign as itself, never as another. */
  wrap(core: ProtocolCore<WireTypes>, random: Random, crypto: Crypto): ProtocolCore<WireTypes>;
  /**
   * A Byzantine client that runs next to the correct ones in some seeds (bad signatures, junk,
   * torrents). `victim` is a correct client's id it may impersonate. It never opens a session,
   * so what gets ordered of its requests leaves the service state alone.
   */
  faultyClient?(options: ClientOptions, victim: string): ClientCore<WireTypes>;
  /** The behaviour a core `wrap` returned runs (for the trace), if the adversary names them. */
  behaviourOf?(core: ProtocolCore<WireTypes>): string | undefined;
}

function pick<T>(random: Random, choices: readonly T[]): T {
  return choices[random.int(choices.length)]!;
}

// Small snapshot intervals and chunks so that runs of a few seconds exercise compaction and
// InstallSnapshot, and a spread of the settings a user may change.
function raftSimSettings(random: Random): { readonly [key: string]: Value } {
  const electionTicks = pick(random, [5, 10, 20]);
  const checkQuorum = random.chance(0.6);
  // Lease reads in a share of the seeds that can have them (they need check-quorum). The
  // simulator's clocks run at rates 0.9 to 1.1, up to 22% apart: the drift bound covers that.
  const leaseReads = checkQuorum && random.chance(0.5);
  return {
    electionTicks,
    heartbeatTicks: Math.max(1, Math.floor(electionTicks / pick(random, [2, 4, 5]))),
    preVote: random.chance(0.7),
    checkQuorum,
    leaseReads,
    maxClockDrift: leaseReads ? 0.25 : 0.1,
    maxInflight: pick(random, [1, 4, 64]),
    maxEntriesPerMessage: pick(random, [1, 8, 64]),
    maxBatchCommands: pick(random, [1, 16, 256]),
    snapshotEvery: pick(random, [10, 50, 300]),
    compactionSlack: pick(random, [0, 10, 100]),
    snapshotChunkBytes: pick(random, [256, 4096]),
    retransmitTicks: pick(random, [2, 6]),
  };
}

// Small checkpoint intervals and windows so that runs of a few seconds exercise checkpoints,
// garbage collection, the window's edge and state transfer.
/** Four members and a spare: each change adds the spare (n = 5, f = 1) or removes one back to 4. */
const pbftMembership = { spares: 1, minVoters: 4, votersSetting: "members" } as const;

function pbftSimSettings(random: Random): { readonly [key: string]: Value } {
  const checkpointInterval = pick(random, [4, 16, 64]);
  const requestTimeoutTicks = pick(random, [20, 40, 80]);
  return {
    checkpointInterval,
    windowSize: checkpointInterval * pick(random, [2, 4]),
    maxBatchRequests: pick(random, [1, 8, 64]),
    maxInFlight: pick(random, [1, 4, 16]),
    inlineRequestBytes: pick(random, [0, 64, 8192]),
    requestTimeoutTicks,
    viewChangeTicks: requestTimeoutTicks,
    maxViewChangeTicks: requestTimeoutTicks * 16,
    retransmitTicks: pick(random, [3, 6]),
    chunkBytes: pick(random, [64, 512, 65536]),
    digestReplies: random.chance(0.7),
    readOnlyQueries: random.chance(0.6),
    // The simulator's clocks start up to a second apart and drift: keep the bound above that.
    timeBoundMs: 5000,
    // Last, so the draws above stay as they were: both values across the CI seeds.
    tentativeExecution: random.chance(0.7),
  };
}

// Fast failure detection and tiny snapshot intervals, so that runs of a few seconds fail over,
// transfer state to new backups and compact often.
function primaryBackupSimSettings(
  random: Random,
  faults: readonly string[],
): { readonly [key: string]: Value } {
  const failTicks = pick(random, [5, 10, 20]);
  return {
    heartbeatTicks: pick(random, [1, 2]),
    failTicks,
    arbiterRetryTicks: pick(random, [3, 10, 30]),
    // Acknowledging on receipt survives one failure, not a power loss that takes unsynced
    // writes of both replicas (the disk fault with crashes can do that), so it runs without it.
    ackOn: faults.includes("disk") || random.chance(0.5) ? "durable" : "receipt",
    maxBackupLag: pick(random, [2, 16, 256]),
    maxEntriesPerMessage: pick(random, [1, 8, 64]),
    maxBatchCommands: pick(random, [1, 16, 256]),
    snapshotEvery: pick(random, [10, 50, 300]),
  };
}

function primaryBackupVariant(
  bug: (typeof primaryBackupPlantedBugs)[number] | undefined,
): RegisteredProtocol {
  return {
    name: bug ? `primary-backup-bug-${bug}` : "primary-backup",
    description: bug
      ? `BROKEN primary-backup: ${bug}`
      : "primary/backup (VMware FT style): f+1 replicas and a test-and-set arbiter tolerate f=1 fail-stop fault",
    definition: createPrimaryBackupProtocol(
      bug ? { plantedBug: bug } : {},
    ) as unknown as ProtocolDefinition<WireTypes>,
    defaultF: 1,
    simSettings: primaryBackupSimSettings,
    broken: bug !== undefined,
    simExternal: () => new MemoryArbiter() as unknown as ExternalHandler,
  };
}

/**
 * PBFT's Byzantine adversary: in 60% of the seeds, f replicas lie, each with a behaviour from
 * the catalog (src/protocols/pbft/adversary.ts). Replica 0 (the first primary) is among them in
 * half of those seeds, so the primary's lies (equivocation, slowness) are exercised often.
 */
const pbftBehaviours = new WeakMap<ProtocolCore<WireTypes>, string>();
const pbftAdversary: Adversary = {
  pick(random, n, f) {
    if (f === 0 || !random.chance(0.6)) return [];
    const ids = Array.from({ length: n }, (_, i) => i);
    const chosen: number[] = random.chance(0.5) ? [0] : [];
    while (chosen.length < f) {
      const id = ids[random.int(n)]!;
      if (!chosen.includes(id)) chosen.push(id);
    }
    return chosen;
  },
  wrap: (core, random, crypto) => {
    const behaviour = pick(random, byzantineBehaviours);
    const liar = byzantine(core, behaviour, random, crypto);
    pbftBehaviours.set(liar, behaviour);
    return liar;
  },
  behaviourOf: (core) => pbftBehaviours.get(core),
  faultyClient: (options, victim) =>
    new FaultyPbftClient(options, pick(options.random, [5, 20, 50]), victim),
};

const registered: RegisteredProtocol[] = [
  {
    name: "single",
    description: "one replica, no fault tolerance: the baseline",
    definition: createSingleProtocol() as unknown as ProtocolDefinition<WireTypes>,
    defaultF: 0,
    simSettings: (random) => ({ snapshotEvery: pick(random, [5, 40, 200]) }),
    broken: false,
  },
  {
    name: "single-ack-before-sync",
    description: "BROKEN single: acknowledges commands before the log write is durable",
    definition: createSingleProtocol({
      plantedBug: "ack-before-sync",
    }) as unknown as ProtocolDefinition<WireTypes>,
    defaultF: 0,
    simSettings: (random) => ({ snapshotEvery: pick(random, [5, 40, 200]) }),
    broken: true,
  },
  {
    name: "raft",
    description: "Raft for crash faults: 2f+1 replicas tolerate f crashes",
    definition: createRaftProtocol() as unknown as ProtocolDefinition<WireTypes>,
    defaultF: 1,
    simSettings: raftSimSettings,
    broken: false,
    membership: { spares: 1, minVoters: 3 },
  },
  ...raftPlantedBugs.map(
    (bug): RegisteredProtocol => ({
      name: `raft-bug-${bug}`,
      description: `BROKEN raft: ${bug}`,
      definition: createRaftProtocol({
        plantedBug: bug,
      }) as unknown as ProtocolDefinition<WireTypes>,
      defaultF: 1,
      simSettings: raftSimSettings,
      broken: true,
      membership: { spares: 1, minVoters: 3 },
    }),
  ),
  {
    name: "pbft",
    description: "PBFT for Byzantine faults: 3f+1 replicas tolerate f that lie",
    definition: createPbftProtocol() as unknown as ProtocolDefinition<WireTypes>,
    defaultF: 1,
    simSettings: pbftSimSettings,
    broken: false,
    adversary: pbftAdversary,
    membership: pbftMembership,
  },
  ...pbftPlantedBugs.map(
    (bug): RegisteredProtocol => ({
      name: `pbft-bug-${bug}`,
      description: `BROKEN pbft: ${bug}`,
      definition: createPbftProtocol({
        plantedBug: bug,
      }) as unknown as ProtocolDefinition<WireTypes>,
      defaultF: 1,
      simSettings: pbftSimSettings,
      broken: true,
      adversary: pbftAdversary,
      membership: pbftMembership,
    }),
  ),
  primaryBackupVariant(undefined),
  ...primaryBackupPlantedBugs.map((bug) => primaryBackupVariant(bug)),
];

/** The replica-count rule of a protocol by its name (the correct variant's declaration). */
export function replicaCountOf(protocol: ProtocolName): ReplicaCountRule | undefined {
  return registered.find((p) => p.definition.name === protocol && !p.broken)?.definition
    .replicaCount;
}

/**
 * Checks an untrusted configuration completely: its shape, the replica count by the protocol's
 * rule, and the protocol's settings. Throws one ConfigError naming every problem.
 */
export function validateConfig(raw: unknown): ClusterConfig {
  const config = validateClusterConfig(raw, replicaCountOf);
  const definition = registered.find((p) => p.definition.name === config.protocol)?.definition;
  const problems = definition?.validateSettings(config) ?? [];
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

export function registerProtocol(protocol: RegisteredProtocol): void {
  if (registered.some((p) => p.name === protocol.name))
    throw new Error(`protocol ${protocol.name} registered twice`);
  registered.push(protocol);
}

export function protocolRegistry(): readonly RegisteredProtocol[] {
  return registered;
}

export function findProtocol(name: string): RegisteredProtocol {
  const found = registered.find((p) => p.name === name);
  if (!found) {
    throw new Error(
      `unknown protocol "${name}"; known: ${registered.map((p) => p.name).join(", ")}`,
    );
  }
  return found;
}
