import { createHash } from "node:crypto";
import { type CheckResult, checkLinearizability } from "../check/linearizability/index.js";
import { accessEntryOf } from "../core/access.js";
import type { AdminOp, ReplyResult } from "../core/client-messages.js";
import type { ClientOperation } from "../core/client-operation.js";
import { accessPolicyOf, type ClusterConfig, simulatedCluster } from "../core/config.js";
import { createRandom, type Random } from "../core/prng.js";
import type {
  ClientCore,
  ClientOutput,
  CoreStatus,
  ExternalHandler,
  ExternalResult,
  PersistOp,
  ProtocolCore,
  ProtocolDefinition,
  WireTypes,
} from "../core/protocol.js";
import { emptyDurableState } from "../core/protocol.js";
import { ReplicatedService } from "../core/replicated-service.js";
import type { Value } from "../core/value.js";
import { DecodeError, decode, encode } from "../platform/codec.js";
import { findProtocol, type RegisteredProtocol } from "../protocols/registry.js";
import { ReplicaNode } from "../replica/replica-node.js";
import { CrashSweep, crashSweepPoint } from "./crash-sweep.js";
import { EventQueue } from "./event-queue.js";
import { calmNetwork, partitionShapes, SimNetwork } from "./network.js";
import type { FaultKind, SimOptions } from "./options.js";
import { ReplicationChecker } from "./replication-checker.js";
import { pickRoleChange, roleChangeGapMs, simAccessPolicy } from "./role-changes.js";
import { SimClient } from "./sim-client.js";
import { SimCrypto } from "./sim-crypto.js";
import { SimDisk } from "./sim-disk.js";
import { type SimServiceKit, simServiceKit } from "./sim-service.js";
import type { FaultKind as TraceFaultKind } from "./trace/trace-format.js";
import type { TraceRecorder } from "./trace/trace-recorder.js";
import { TraceHash } from "./trace-hash.js";
import { TwinReplica } from "./twins-replica.js";
import { TwinsTopology, twinsScenario } from "./twins-scenario.js";

type Channel = "peer" | "request" | "response";

type SimEvent =
  | {
      readonly k: "deliver";
      readonly from: number;
      readonly to: number;
      readonly channel: Channel;
      readonly bytes: Uint8Array;
      readonly client: string;
    }
  | { readonly k: "tick"; readonly node: number; readonly inc: number }
  | { readonly k: "clientTick"; readonly client: number }
  /** The adversary's faulty client (in some seeds of Byzantine protocols) takes a turn. */
  | { readonly k: "faultyClientTick" }
  | {
      readonly k: "sync";
      readonly node: number;
      readonly inc: number;
      readonly cover: { count: number; id: number };
    }
  | { readonly k: "invoke"; readonly client: number }
  | { readonly k: "nemesis" }
  | { readonly k: "restart"; readonly node: number }
  | {
      readonly k: "externalAnswer";
      readonly node: number;
      readonly inc: number;
      readonly id: number;
      readonly result: ExternalResult<unknown>;
    }
  | { readonly k: "adminTick" }
  /** The roles workload: the operator changes a client's access (role-changes.ts). */
  | { readonly k: "roleChange" }
  | { readonly k: "electionWatch" }
  | { readonly k: "endFaults" }
  /** Heals partition `partition` if it is still the one in force. */
  | { readonly k: "heal"; readonly partition: string }
  /** The Twins scenario moves to its phase `phase` (src/sim/twins-scenario.ts). */
  | { readonly k: "twinsPhase"; readonly phase: number };

/**
 * Swarm testing (Groce et al. 2012): every seed draws its own mix and pace of faults, so some
 * seeds hammer one or two kinds of fault at a high rate. Bugs that need a burst of the same
 * fault (an election storm, a crash right after a vote) show up far sooner than under one
 * average mix.
 */
interface FaultProfile {
  readonly kinds: readonly FaultKind[];
  readonly meanGapUs: number;
  /** Chance that a crash, pause or isolation aims at the current leader. */
  readonly targetLeader: number;
  readonly restartMaxUs: number;
  readonly pauseMaxUs: number;
  /**
   * Election storms: crash a leader moments after it is elected, and a voter while a
   * candidate campaigns, restarting it quickly. Random faults almost never land in those
   * windows, which is where election and commit-rule mistakes show.
   */
  readonly electionStorm: boolean;
}

interface SimReplica {
  readonly id: number;
  up: boolean;
  incarnation: number;
  /** The Byzantine behaviour the adversary gave this incarnation (for the trace), if it lies. */
  behaviour: string | undefined;
  node: ReplicaNode<WireTypes> | undefined;
  readonly disk: SimDisk;
  readonly random: Random;
  clockOffsetMs: number;
  clockRate: number;
  /** The monotonic clock (ms) as of virtual time monoAt: it runs at clockRate and never jumps. */
  monoMs: number;
  monoAt: number;
  pausedUntil: number;
  /**
   * This pause ends like a real SIGCONT often does: what queued up during the pause (socket
   * input) is handled before the next timer tick, so the core's last tick is from before it.
   */
  inputsBeforeTick: boolean;
}

export interface SimStats {
  simulatedMs: number;
  events: number;
  messagesSent: number;
  messagesDropped: number;
  messagesDuplicated: number;
  crashes: number;
  machineCrashes: number;
  tornTails: number;
  pauses: number;
  partitions: number;
  snapshots: number;
  snapshotInstalls: number;
  /** Tentative executions correct replicas undid (PBFT §5.1.2: a view change rebound the slot). */
  tentativeRollbacks: number;
  membershipChanges: number;
  /** Access changes applied (the roles workload). */
  roleChanges: number;
  /** Operations refused `forbidden` (the roles workload). */
  forbidden: number;
  /** Restarts that found the newest snapshot file rotten and recovered from an older one. */
  snapshotFallbacks: number;
  /** Restarts where recovery refused the disk (a rotten snapshot the log did not cover). */
  recoveryRefusals: number;
  /** WAL segments deleted by compaction on the simulated disks. */
  segmentsDeleted: number;
  externalRequests: number;
  /** External requests whose request or answer was lost (a cut-off replica, a partition). */
  externalLost: number;
  /** Replicas the protocol's adversary made faulty in this run. */
  faultyReplicas: number;
  /** Messages the adversary's faulty client sent, and those of them that failed the schema. */
  faultyClientMessages: number;
  faultyClientMalformed: number;
  /** Its requests that correct replicas ordered and applied (as session-expired), summed over replicas. */
  faultyClientApplied: number;
  operations: number;
  completed: number;
  indeterminate: number;
  failed: number;
  appliedEntries: number;
  maxCommitIndex: number;
  /**
   * The liveness bound as measured: simulated ms from the moment faults stopped (network healed,
   * every replica up) until every pending operation had finished, and until every correct
   * replica was in one view/term, none campaigning. -1: it never happened.
   */
  livenessMs: number;
  settledEpochMs: number;
  /**
   * Simulated ms from faults stopping until a replica reported itself redundant again
   * (StatusDeclaration.redundant: P/B's primary with an in-sync backup); -1 if never or undeclared.
   */
  redundantMs: number;
  /** Crashes placed by `--crash-sweep` (0 or 1 per seed: 0 if the run ended before the boundary). */
  sweepCrashes: number;
  elapsedMs: number;
}

export interface SimResult {
  readonly options: SimOptions;
  readonly ok: boolean;
  readonly violations: readonly string[];
  readonly traceHash: string;
  readonly stats: SimStats;
  /** Undefined when the service came without a model (linearizability was not checked). */
  readonly linearizability: CheckResult<ClientOperation, Value> | undefined;
  readonly history: readonly unknown[];
  readonly trace: readonly string[];
}

const us = 1000; // microseconds per millisecond

/**
 * One deterministic run: n replicas of a protocol, m clients, a network, disks and clocks, all
 * on virtual time and one seeded PRNG. Phase one runs the workload under faults; phase two
 * heals everything and requires every pending operation to finish (liveness); then the
 * history is checked for linearizability and the replicas for agreement.
 */
export class Simulation {
  private readonly queue = new EventQueue<SimEvent>();
  private readonly random: Random;
  /** Disk layouts and snapshot rot: a separate stream, so they do not shift the others. */
  private readonly diskRandom: Random;
  private readonly protocol: RegisteredProtocol;
  private readonly definition: ProtocolDefinition<WireTypes>;
  private readonly config: ClusterConfig;
  private readonly kit: SimServiceKit;
  private readonly network: SimNetwork;
  private readonly replicas: SimReplica[] = [];
  private readonly clients: SimClient<WireTypes>[] = [];
  private readonly clientByName = new Map<string, number>();
  private readonly checker: ReplicationChecker;
  private readonly hash = new TraceHash();
  private readonly traceLines: string[] = [];
  private readonly violations: string[] = [];
  private now = 0;
  private phase: "load" | "liveness" | "done" = "load";
  private nextHistoryId = 1;
  private readonly faults: ReadonlySet<FaultKind>;
  private readonly n: number;
  /** An operator that changes membership under load (protocols that support it). */
  private readonly admin:
    | {
        core: ClientCore<WireTypes>;
        busy: boolean;
        nextOp: number;
        endpoint: number;
        /** The request in flight is an access change (roles workload), not a membership change. */
        accessChange: boolean;
      }
    | undefined;
  private readonly profile: FaultProfile;
  private readonly rolesRandom: Random;
  private rotations = 0;
  /** Replicas that are not correct in this run (the protocol's adversary picked them). */
  private readonly faulty: ReadonlySet<number>;
  /** The protocol's external handler for this run, if it has one. */
  private readonly external: ExternalHandler | undefined;
  /** The adversary's faulty client and its network endpoint, in some seeds. */
  private readonly faultyClient:
    | { readonly core: ClientCore<WireTypes>; readonly endpoint: number }
    | undefined;
  /** Twins runs: the twinned replica's topology, moved from phase to phase by the scenario. */
  private readonly twins: TwinsTopology | undefined;
  /** `--crash-sweep`: the one crash this seed places at an enumerated boundary. */
  private readonly sweep: CrashSweep | undefined;
  readonly stats: SimStats = {
    simulatedMs: 0,
    events: 0,
    messagesSent: 0,
    messagesDropped: 0,
    messagesDuplicated: 0,
    crashes: 0,
    machineCrashes: 0,
    tornTails: 0,
    pauses: 0,
    partitions: 0,
    snapshots: 0,
    snapshotInstalls: 0,
    tentativeRollbacks: 0,
    membershipChanges: 0,
    roleChanges: 0,
    forbidden: 0,
    snapshotFallbacks: 0,
    recoveryRefusals: 0,
    segmentsDeleted: 0,
    externalRequests: 0,
    externalLost: 0,
    faultyReplicas: 0,
    faultyClientMessages: 0,
    faultyClientMalformed: 0,
    faultyClientApplied: 0,
    operations: 0,
    completed: 0,
    indeterminate: 0,
    failed: 0,
    appliedEntries: 0,
    maxCommitIndex: 0,
    livenessMs: -1,
    settledEpochMs: -1,
    redundantMs: -1,
    sweepCrashes: 0,
    elapsedMs: 0,
  };

  constructor(
    readonly options: SimOptions,
    private readonly recordTrace = false,
    /** The structured trace (`sim --trace`); undefined, as in every unasked run, costs nothing. */
    private readonly recorder?: TraceRecorder,
  ) {
    this.random = createRandom(options.seed);
    this.diskRandom = createRandom((options.seed ^ 0x6a09e667) >>> 0);
    this.protocol = findProtocol(options.protocol);
    this.definition = this.protocol.definition;
    const f = options.f ?? this.protocol.defaultF;
    this.faults = new Set(options.faults);
    const voters = options.replicas ?? this.definition.replicaCount.replicasFor(f);
    const membership = this.faults.has("membership") ? this.protocol.membership : undefined;
    this.n = voters + (membership?.spares ?? 0);
    const settings = membership
      ? {
          ...this.protocol.simSettings(this.random, options.faults),
          [membership.votersSetting ?? "initialVoters"]: Array.from(
            { length: voters },
            (_, i) => i,
          ),
        }
      : this.protocol.simSettings(this.random, options.faults);
    const roles = options.roles === true;
    // The roles workload draws from a stream of its own: runs without it replay as before.
    this.rolesRandom = createRandom((options.seed ^ 0xbb67ae85) >>> 0);
    const cluster = simulatedCluster(this.definition.name, this.n, f, settings);
    this.config = roles ? { ...cluster, clients: simAccessPolicy } : cluster;
    this.kit = simServiceKit(options.service);
    // The faulty client (--faulty-client: a Byzantine protocol's, in 30% of the seeds, not in
    // Twins runs) draws from a stream of its own: seeds without one replay as before it existed.
    const faultyRandom = createRandom((options.seed ^ 0x3c6ef372) >>> 0);
    const withFaultyClient =
      options.faultyClient === true &&
      this.protocol.adversary?.faultyClient !== undefined &&
      !options.twins &&
      options.clients > 0 &&
      faultyRandom.chance(0.3);
    const endpoints = this.n + options.clients + (membership || roles ? 1 : 0);
    this.network = new SimNetwork(this.n, endpoints + (withFaultyClient ? 1 : 0));
    this.checker = new ReplicationChecker(() => this.now);
    // Twins: the scenario (enumerated from the seed) names the faulty replicas, the twins: one,
    // or with --twin-count up to f.
    this.twins = options.twins
      ? new TwinsTopology(
          twinsScenario(Math.max(0, options.seed - 1), this.n, options.twinCount ?? 1),
        )
      : undefined;
    this.sweep = options.crashSweep
      ? new CrashSweep(crashSweepPoint(options.seed, this.n))
      : undefined;
    this.faulty = this.twins
      ? new Set(this.twins.scenario.twins)
      : new Set(this.protocol.adversary?.pick(this.random, this.n, f) ?? []);
    this.external = this.protocol.simExternal?.();
    // One disk layout per run: small segments and few kept snapshots make compaction (and with
    // it recovery's floor clipping and snapshot fallback) happen within a few seconds.
    // Drawn from a stream of their own, so that the rest of a seed's run (faults, workload)
    // is what it was before disks had layouts.
    const layout = {
      segmentRecords: [4, 32, 1_000_000][this.diskRandom.int(3)]!,
      keepSnapshots: [1, 2, 3][this.diskRandom.int(3)]!,
    };
    for (let id = 0; id < this.n; id++) {
      this.replicas.push({
        id,
        up: false,
        incarnation: 0,
        behaviour: undefined,
        node: undefined,
        disk: new SimDisk(this.definition.durableRules, layout),
        random: this.random.fork(),
        clockOffsetMs: 1_000_000 + this.random.int(1000),
        clockRate: 1,
        monoMs: 0,
        monoAt: 0,
        pausedUntil: 0,
        inputsBeforeTick: false,
      });
    }
    for (let i = 0; i < options.clients; i++) {
      const name = `c${i}`;
      const random = this.random.fork();
      const core = this.definition.createClient({
        clientId: name,
        config: this.config,
        random,
        crypto: this.cryptoFor(`c:${name}`),
        retryTicks: 25,
      });
      this.clients.push(new SimClient(i, name, core, random));
      this.clientByName.set(name, i);
    }
    this.faultyClient = withFaultyClient
      ? {
          core: this.protocol.adversary!.faultyClient!(
            {
              clientId: "x0",
              config: this.config,
              random: faultyRandom.fork(),
              crypto: this.cryptoFor("c:x0"),
            },
            "c0",
          ),
          endpoint: endpoints,
        }
      : undefined;
    const offered = (
      ["network", "partition", "crash", "pause", "clock", "membership"] as const
    ).filter(
      (k) =>
        this.faults.has(k) &&
        (k !== "membership" || membership !== undefined) &&
        // In Twins runs the scenario owns the partitions.
        (k !== "partition" || this.twins === undefined),
    );
    const kinds: FaultKind[] = offered.filter(() => this.random.chance(0.65));
    if (kinds.length === 0 && offered.length > 0)
      kinds.push(offered[this.random.int(offered.length)]!);
    this.profile = {
      kinds,
      meanGapUs: [40, 150, 500, 1200][this.random.int(4)]! * us,
      targetLeader: this.random.next(),
      restartMaxUs: [100, 600, 2000][this.random.int(3)]! * us,
      pauseMaxUs: [200, 2000][this.random.int(2)]! * us,
      // Storms isolate leaders, which would overrule a Twins scenario's partitions.
      electionStorm: this.faults.has("crash") && this.random.chance(0.35) && !this.twins,
    };
    this.admin =
      membership || roles
        ? {
            core: this.definition.createClient({
              clientId: "admin",
              config: this.config,
              random: membership ? this.random.fork() : this.rolesRandom.fork(),
              crypto: this.cryptoFor("c:admin"),
              retryTicks: 25,
            }),
            busy: false,
            accessChange: false,
            nextOp: 1,
            endpoint: this.n + options.clients,
          }
        : undefined;
    this.recorder?.setLanes([
      ...this.replicas.map((r) => ({
        id: r.id,
        name: `r${r.id}`,
        kind: "replica" as const,
        ...(this.faulty.has(r.id) ? { faulty: true } : {}),
      })),
      ...this.clients.map((c) => ({ id: this.n + c.index, name: c.name, kind: "client" as const })),
      ...(this.admin ? [{ id: this.admin.endpoint, name: "admin", kind: "admin" as const }] : []),
      ...(this.faultyClient
        ? [{ id: this.faultyClient.endpoint, name: "x0", kind: "faulty-client" as const }]
        : []),
    ]);
  }

  private cryptoFor(self: `r${number}` | `c:${string}`): SimCrypto {
    // Deterministic keys derived from the seed, so runs replay; ideal signatures (sim-crypto.ts).
    return new SimCrypto(self, this.options.seed);
  }

  private trace(line: () => string): void {
    if (!this.recordTrace && !this.recorder) return;
    const text = line();
    if (this.recordTrace) this.traceText(text);
    this.recorder?.note(this.now, text);
  }

  private traceText(text: string): void {
    this.traceLines.push(`${(this.now / us).toFixed(3)} ${text}`);
    if (this.traceLines.length > 200_000) this.traceLines.splice(0, 100_000);
  }

  /** A fault: a line of the text trace, and a fault on the structured trace's lanes. */
  private traceFault(
    kind: TraceFaultKind,
    replicas: readonly number[],
    line: () => string,
    until?: number,
  ): void {
    if (this.recordTrace) this.traceText(line());
    if (!this.recorder) return;
    const cut: [number, number][] = [];
    if (kind === "partition" || kind === "twins" || (kind === "pause" && until !== undefined)) {
      for (let from = 0; from < this.network.endpoints; from++)
        for (let to = 0; to < this.network.endpoints; to++)
          if (from !== to && !this.network.canSend(from, to)) cut.push([from, to]);
    }
    this.recorder.fault(this.now, kind, replicas, line(), {
      ...(until !== undefined ? { until: until / us } : {}),
      ...(cut.length > 0 ? { cut } : {}),
    });
  }

  /** The structured trace: every replica's status, kept when it changed. */
  private recordStatuses(recorder: TraceRecorder): void {
    for (const r of this.replicas) {
      const status = r.up && r.node ? r.node.core.status() : undefined;
      recorder.status(
        this.now,
        r.id,
        status,
        status !== undefined && this.definition.status.leads(status),
        r.behaviour,
      );
    }
  }

  private schedule(delayUs: number, event: SimEvent): void {
    this.queue.push(this.now + Math.max(0, Math.floor(delayUs)), event);
  }

  private tickPeriodUs(r: SimReplica): number {
    return (this.config.tickMs * us) / r.clockRate;
  }

  private clockOf(r: SimReplica): number {
    return Math.floor(r.clockOffsetMs + (this.now / us) * r.clockRate);
  }

  /** The replica's monotonic clock now: what performance.now() is to a real replica. */
  private monoOf(r: SimReplica): number {
    r.monoMs += ((this.now - r.monoAt) / us) * r.clockRate;
    r.monoAt = this.now;
    return r.monoMs;
  }

  run(): SimResult {
    const started = performance.now();
    this.trace(
      () =>
        `fault profile ${JSON.stringify({ ...this.profile, kinds: this.profile.kinds.join(",") })}`,
    );
    this.trace(() => `settings ${JSON.stringify(this.config.settings ?? {})}`);
    if (this.twins) {
      const scenario = this.twins.scenario;
      this.trace(() => `twins scenario ${scenario.index}: ${scenario.label}`);
      scenario.phases.forEach((phase, i) => {
        this.schedule(phase.from * this.options.duration * 1000 * us, {
          k: "twinsPhase",
          phase: i,
        });
      });
    }
    for (const r of this.replicas) this.start(r);
    if (this.recorder) this.recordStatuses(this.recorder);
    for (const c of this.clients) {
      this.schedule(this.random.int(20 * us), { k: "invoke", client: c.index });
      this.schedule(this.random.int(this.config.tickMs * us), { k: "clientTick", client: c.index });
    }
    this.schedule(this.nemesisDelay(), { k: "nemesis" });
    if (this.admin) this.schedule(this.config.tickMs * us, { k: "adminTick" });
    if (this.faultyClient) this.schedule(this.config.tickMs * us, { k: "faultyClientTick" });
    if (this.options.roles) this.schedule(this.roleChangeDelay(), { k: "roleChange" });
    if (this.profile.electionStorm) this.schedule(2 * us, { k: "electionWatch" });
    this.schedule(this.options.duration * 1000 * us, { k: "endFaults" });
    const deadline = (this.options.duration + this.options.livenessBound) * 1000 * us;
    let settleAt: number | undefined;
    for (;;) {
      const next = this.queue.pop();
      if (!next) break;
      this.now = next.time;
      if (this.now > deadline) break;
      if (settleAt !== undefined && this.now >= settleAt && !this.awaitingRedundancy()) break;
      this.stats.events++;
      try {
        this.dispatch(next.item);
      } catch (error) {
        // An assertion in protocol code (or any exception) is a failed run, not a crashed tool.
        this.violations.push(
          `exception at t=${(this.now / 1000).toFixed(3)}ms: ${(error as Error)?.message ?? error}`,
        );
        break;
      }
      if (this.recorder) this.recordStatuses(this.recorder);
      if (this.phase === "liveness" && this.stats.settledEpochMs < 0 && this.epochSettled())
        this.stats.settledEpochMs = (this.now - this.faultsStoppedAt) / us;
      if (this.awaitingRedundancy() && this.isRedundant())
        this.stats.redundantMs = (this.now - this.faultsStoppedAt) / us;
      if (
        this.phase === "liveness" &&
        settleAt === undefined &&
        this.clients.every((c) => !c.current)
      ) {
        this.stats.livenessMs = (this.now - this.faultsStoppedAt) / us;
        // Everything answered: give replicas a moment to converge before comparing them.
        settleAt = this.now + 2000 * us;
      }
    }
    this.stats.simulatedMs = this.now / us;
    return this.finish(started);
  }

  private dispatch(e: SimEvent): void {
    switch (e.k) {
      case "deliver":
        this.deliver(e);
        return;
      case "tick": {
        const r = this.replicas[e.node]!;
        if (!r.up || r.incarnation !== e.inc) return;
        if (this.deferIfPaused(r, e)) return;
        r.inputsBeforeTick = false;
        r.node!.handle({ type: "tick", now: this.clockOf(r), mono: this.monoOf(r) });
        this.schedule(this.tickPeriodUs(r), e);
        return;
      }
      case "clientTick": {
        const c = this.clients[e.client]!;
        this.handleClientOutputs(c, c.core.step({ type: "tick", now: this.now / us }), undefined);
        if (this.phase !== "done") this.schedule(this.config.tickMs * us, e);
        return;
      }
      case "sync": {
        const r = this.replicas[e.node]!;
        if (!r.up || r.incarnation !== e.inc) return;
        if (this.sweepCrash(r, "before", "a write becoming durable")) return;
        const id = r.disk.completeSync(e.cover);
        this.hash.u32(0x5157);
        this.hash.number(id);
        r.node!.durable(id);
        if (this.sweepCrash(r, "after", "a write becoming durable")) return;
        if (this.boundaryCrash(r, 0.01, "right after a write became durable")) return;
        if (r.up && r.incarnation === e.inc && r.disk.pending && !r.disk.syncInFlight)
          this.beginSync(r);
        return;
      }
      case "invoke":
        this.invoke(this.clients[e.client]!);
        return;
      case "electionWatch":
        if (this.phase !== "load") return;
        if (this.now >= this.scenarioUntil) this.watchElections();
        this.schedule(1 * us + this.random.int(2 * us), e);
        return;
      case "faultyClientTick": {
        const x = this.faultyClient!;
        for (const out of x.core.step({ type: "tick", now: this.now / us })) {
          if (out.type === "done") continue;
          const targets =
            out.type === "send" ? [out.to] : Array.from({ length: this.n }, (_, i) => i);
          for (const to of targets) {
            this.stats.faultyClientMessages++;
            this.send(x.endpoint, to, "request", out.msg, x.core.clientId);
          }
        }
        // It stops with the other faults: liveness is required once the system is stable. (Kept
        // up through the liveness phase, it stalled 7-replica seed 31 for 30 s: an open finding.)
        if (this.phase === "load") this.schedule(this.config.tickMs * us, e);
        return;
      }
      case "adminTick":
        if (this.admin)
          this.handleAdminOutputs(this.admin.core.step({ type: "tick", now: this.now / us }));
        if (this.phase !== "done") this.schedule(this.config.tickMs * us, e);
        return;
      case "roleChange":
        if (this.phase !== "load") return;
        this.changeRole();
        this.schedule(this.roleChangeDelay(), e);
        return;
      case "nemesis":
        if (this.phase !== "load") return;
        if (this.now >= this.scenarioUntil) this.nemesis();
        this.schedule(this.nemesisDelay(), e);
        return;
      case "restart": {
        const r = this.replicas[e.node]!;
        if (!r.up) this.start(r);
        return;
      }
      case "externalAnswer": {
        const r = this.replicas[e.node]!;
        if (!r.up || r.incarnation !== e.inc) return;
        if (this.deferIfPaused(r, e)) return;
        if (this.sweepCrash(r, "before", "an external answer")) return;
        r.node!.answer(e.id, e.result);
        if (this.sweepCrash(r, "after", "an external answer")) return;
        this.boundaryCrash(r, 0.1, "right after an external answer");
        return;
      }
      case "endFaults":
        this.endFaults();
        return;
      case "twinsPhase":
        if (this.phase === "load") this.enterTwinsPhase(e.phase);
        return;
      case "heal":
        if (this.phase === "load" && this.network.partition === e.partition) {
          this.network.heal();
          this.traceFault("heal", [], () => `healed ${e.partition}`);
        }
        return;
    }
  }

  private enterTwinsPhase(index: number): void {
    const twins = this.twins!;
    twins.enter(twins.scenario.phases[index]!);
    const groups = twins.groups();
    if (groups) {
      const label = `twins(${groups.map((g) => g.join(",")).join("|")})`;
      this.network.isolateGroups(groups, label);
      this.stats.partitions++;
    } else this.network.heal();
    this.hash.u32(0x7715);
    this.hash.number(index);
    this.traceFault("twins", [], () => `twins phase ${index}: ${this.network.partition}`);
  }

  /**
   * Crash points around decisions made outside the group (protocols with an external service,
   * in storm seeds): right after the arbiter's answer, before what it leads to is durable or
   * sent, and right after a write became durable, before what it released is acted on. Other
   * protocols draw nothing here, so their seeds replay as before.
   */
  private boundaryCrash(r: SimReplica, chance: number, where: string): boolean {
    if (!this.external || !this.profile.electionStorm || this.phase !== "load") return false;
    if (this.now < this.scenarioUntil || !r.up || !this.random.chance(chance)) return false;
    this.trace(() => `storm: crash r${r.id} ${where}`);
    this.crash(r, 2 * us + this.random.int(30 * us));
    return true;
  }

  private deferIfPaused(r: SimReplica, e: SimEvent): boolean {
    if (r.pausedUntil <= this.now) return false;
    // A paused process handles nothing; what arrived waits in its socket buffers and timers.
    // After some pauses the tick comes just after everything that waited.
    this.queue.push(r.pausedUntil + (e.k === "tick" && r.inputsBeforeTick ? 1 : 0), e);
    return true;
  }

  // ---- replicas ----------------------------------------------------------------------------

  private start(r: SimReplica): void {
    r.up = true;
    r.incarnation++;
    // A new process starts its monotonic clock afresh (performance.now() counts from startup),
    // possibly below what the previous incarnation saw.
    this.monoOf(r);
    r.monoMs = this.random.int(1000);
    const recovered = r.disk.recover();
    const durable = recovered.state;
    this.stats.snapshotFallbacks += recovered.report.fallbacks.length;
    if (recovered.refused !== undefined) {
      this.stats.recoveryRefusals++;
      this.trace(() => `recovery of r${r.id} refused (${recovered.refused}); snapshot restored`);
    }
    const service = new ReplicatedService(
      this.kit.definition,
      this.config.sessions,
      accessPolicyOf(this.config),
    );
    if (durable.snapshot) service.restore(durable.snapshot.data);
    const created = this.definition.createReplica({
      id: r.id,
      config: this.config,
      random: r.random.fork(),
      crypto: this.cryptoFor(`r${r.id}`),
      durable,
    });
    const adversary = this.faulty.has(r.id) ? this.protocol.adversary : undefined;
    const core = this.twins?.scenario.twins.includes(r.id)
      ? this.twinOf(r, created)
      : adversary
        ? adversary.wrap(created, r.random.fork(), this.cryptoFor(`r${r.id}`))
        : checkingInvariants(created, () =>
            this.checkOneLeaderPerEpoch(r.id, created.status(true)),
          );
    r.behaviour = adversary?.behaviourOf?.(core);
    const inc = r.incarnation;
    const node = new ReplicaNode<WireTypes>(
      core,
      service,
      {
        sendPeer: (to, msg) => this.send(r.id, to, "peer", msg, ""),
        sendClient: (client, msg) => {
          const base = client.split(".")[0]!;
          if (base === "admin" && this.admin) {
            this.send(r.id, this.admin.endpoint, "response", msg, client);
            return;
          }
          const target = this.clientByName.get(base);
          if (target !== undefined) this.send(r.id, this.n + target, "response", msg, client);
        },
        persist: (id, ops) => this.persist(r, inc, id, ops),
        external: (id, request) => this.callExternal(r, inc, id, request),
      },
      this.faulty.has(r.id)
        ? {}
        : {
            onApply: (entry, results, applied) => {
              if (this.faultyClient) {
                for (const x of results)
                  if (x.client === this.faultyClient.core.clientId)
                    this.stats.faultyClientApplied++;
              }
              this.checker.onApply(
                r.id,
                entry,
                results,
                accessEntryOf(entry.payload) ? applied.access.toValue() : undefined,
              );
            },
            onQuery: (client, qid, _at, result) => this.checker.onQuery(client, qid, result),
            onSnapshot: (index, data) => {
              this.stats.snapshots++;
              this.checker.onSnapshot(r.id, index, data);
            },
            onInstallSnapshot: (meta) => {
              this.stats.snapshotInstalls++;
              this.checker.resetReplica(r.id, meta.index);
            },
            // Executed, not committed: the checker holds it to nothing until it commits (then
            // onApply), but a client may accept its results (2f+1 tentative replies).
            onTentativeApply: (_entry, results) => this.checker.onTentative(results),
            onRollback: (meta) => {
              this.stats.tentativeRollbacks++;
              this.checker.resetReplica(r.id, meta.index);
            },
          },
    );
    r.node = node;
    this.checker.resetReplica(r.id, service.appliedIndex);
    this.hash.u32(0x5747);
    this.hash.number(r.id);
    this.traceFault(
      "restart",
      [r.id],
      () =>
        `start r${r.id} inc=${inc} applied=${service.appliedIndex} entries=${durable.entries.length}`,
    );
    this.schedule(this.random.int(this.tickPeriodUs(r)), { k: "tick", node: r.id, inc });
  }

  /**
   * The twinned replica: `first` and a second core of the same replica (same id, same keys),
   * each with a service of its own. Both start empty: the copies keep their writes to
   * themselves (twins-replica.ts), so the replica's simulated disk stays empty and a crashed
   * twin restarts as two fresh copies, as a faulty replica may.
   */
  private twinOf(r: SimReplica, first: ProtocolCore<WireTypes>): ProtocolCore<WireTypes> {
    const service = () =>
      new ReplicatedService(this.kit.definition, this.config.sessions, accessPolicyOf(this.config));
    const second = this.definition.createReplica({
      id: r.id,
      config: this.config,
      random: r.random.fork(),
      crypto: this.cryptoFor(`r${r.id}`),
      durable: emptyDurableState,
    });
    return new TwinReplica(
      r.id,
      [
        { core: first, service: service() },
        { core: second, service: service() },
      ],
      this.twins!,
    );
  }

  /** The replica that led in each epoch (term, view), by the protocol's own status. */
  private readonly leaderOfEpoch = new Map<number, number>();

  /**
   * At most one replica leads, and so produces client-visible outputs, per epoch: Raft's
   * election safety, PBFT's primary of a view, primary/backup's arbiter-decided primary.
   */
  private checkOneLeaderPerEpoch(replica: number, status: CoreStatus): void {
    if (!this.definition.status.leads(status)) return;
    const known = this.leaderOfEpoch.get(status.term);
    if (known === undefined) this.leaderOfEpoch.set(status.term, replica);
    else if (known !== replica && !this.reportedEpochs.has(status.term)) {
      this.reportedEpochs.add(status.term);
      this.violations.push(
        `replicas ${known} and ${replica} both led in ${this.definition.status.epochName} ${status.term}`,
      );
    }
  }
  private readonly reportedEpochs = new Set<number>();

  /**
   * Carries out an external request with the protocol's handler for this run; the answer
   * arrives after a simulated round trip, and is lost if the replica restarted meanwhile or
   * the network is cut off from it (as if the handler's host were on the other side).
   */
  private callExternal(r: SimReplica, inc: number, id: number, request: unknown): void {
    let result: ExternalResult<unknown>;
    const cut = this.network.externalCut.has(r.id);
    if (cut && this.random.chance(0.5)) {
      // The request never reached the service: nothing was decided.
      this.stats.externalRequests++;
      this.hash.u32(0xe8e0);
      this.hash.number(r.id);
      this.trace(() => `external r${r.id} #${id} ${JSON.stringify(request)} lost on the way`);
      this.externalTimeout(r, inc, id);
      return;
    }
    if (!this.external) {
      result = { ok: false, error: "this protocol has no external handler in the simulator" };
    } else {
      const answer = this.external.call(r.id, request);
      if (answer instanceof Promise) {
        throw new Error("a simulated external handler must answer synchronously");
      }
      result = answer;
    }
    this.stats.externalRequests++;
    this.hash.u32(0xe8e1);
    this.hash.number(r.id);
    this.hash.bytes(encode([id, request ?? null, result as unknown as Value]));
    this.trace(
      () => `external r${r.id} #${id} ${JSON.stringify(request)} -> ${JSON.stringify(result)}`,
    );
    const lost = cut || (this.network.partition !== "none" && this.random.chance(0.3));
    if (lost) {
      this.externalTimeout(r, inc, id);
      return;
    }
    // Now and then the service is slow to answer (a late answer after a retry or a timeout).
    const slow = this.external && this.random.chance(0.05) ? 5 * us + this.random.int(60 * us) : 0;
    this.schedule(this.network.delay(this.random) * 2 + slow, {
      k: "externalAnswer",
      node: r.id,
      inc,
      id,
      result,
    });
  }

  /**
   * A lost request or answer ends as a real driver's call would: with an error after its
   * timeout (0.2 to 1 s), so the replica's bounded set of requests in flight drains.
   */
  private externalTimeout(r: SimReplica, inc: number, id: number): void {
    this.stats.externalLost++;
    this.schedule(200 * us + this.random.int(800 * us), {
      k: "externalAnswer",
      node: r.id,
      inc,
      id,
      result: { ok: false, error: "no answer from the external service (timed out)" },
    });
  }

  private persist(r: SimReplica, inc: number, id: number, ops: readonly PersistOp[]): void {
    if (!r.up || r.incarnation !== inc) return;
    r.disk.write(id, ops);
    if (!r.disk.syncInFlight) this.beginSync(r);
  }

  private beginSync(r: SimReplica): void {
    const cover = r.disk.beginSync();
    let latency = 300 + this.random.int(2000);
    if (this.random.chance(0.01)) latency += 5_000 + this.random.int(20_000);
    this.schedule(latency, { k: "sync", node: r.id, inc: r.incarnation, cover });
  }

  /** The crash sweep's one crash, if it is due at this boundary of `r` (crash-sweep.ts). */
  private sweepCrash(r: SimReplica, when: "before" | "after", boundary: string): boolean {
    if (!this.sweep || this.phase !== "load" || !r.up || !this.sweep.due(r.id, when)) return false;
    const { machine, boundary: k } = this.sweep.point;
    this.stats.sweepCrashes++;
    this.trace(() => `sweep: crash r${r.id} ${when} ${boundary} (boundary ${k})`);
    this.crash(r, 2 * us + this.random.int(30 * us), machine);
    return true;
  }

  private crash(r: SimReplica, restartAfterUs?: number, machineCrash?: boolean): void {
    const machine = machineCrash ?? (this.faults.has("disk") && this.random.chance(0.7));
    r.up = false;
    r.node = undefined;
    r.pausedUntil = 0;
    r.inputsBeforeTick = false;
    const torn = r.disk.tornTails;
    r.disk.crash(machine, this.random, machine && this.diskRandom.chance(0.1));
    this.stats.crashes++;
    if (machine) this.stats.machineCrashes++;
    this.stats.tornTails += r.disk.tornTails - torn;
    this.hash.u32(0xc4a5);
    this.hash.number(r.id);
    this.traceFault("crash", [r.id], () => `crash r${r.id} ${machine ? "machine" : "process"}`);
    this.schedule(restartAfterUs ?? 5 * us + this.random.int(this.profile.restartMaxUs), {
      k: "restart",
      node: r.id,
    });
  }

  // ---- network -----------------------------------------------------------------------------

  /**
   * The last message encoded and its bytes: a broadcast hands the same message object to every
   * peer in a row, and messages are never changed once sent, so it is encoded once.
   */
  private lastEncoded: { readonly msg: unknown; readonly bytes: Uint8Array } | undefined;

  private send(from: number, to: number, channel: Channel, msg: unknown, client: string): void {
    const last = this.lastEncoded;
    let bytes: Uint8Array;
    if (last && last.msg === msg) bytes = last.bytes;
    else {
      bytes = encode(msg);
      this.lastEncoded = { msg, bytes };
    }
    this.stats.messagesSent++;
    if (!this.network.canSend(from, to) || this.random.chance(this.network.quality.dropRate)) {
      this.stats.messagesDropped++;
      this.recorder?.sent(this.now, from, to, channel, msg);
      return;
    }
    const event: SimEvent = { k: "deliver", from, to, channel, bytes, client };
    this.recorder?.sent(this.now, from, to, channel, msg, event);
    this.schedule(this.network.delay(this.random), event);
    if (this.random.chance(this.network.quality.duplicateRate)) {
      this.stats.messagesDuplicated++;
      this.schedule(this.network.delay(this.random), event);
    }
  }

  private deliver(e: SimEvent & { k: "deliver" }): void {
    // A link that went down while the message was in flight loses it.
    if (!this.network.canSend(e.from, e.to)) {
      this.stats.messagesDropped++;
      this.recorder?.outcome(this.now, e, "lost-in-flight");
      return;
    }
    this.hash.u32(e.from * 4096 + e.to);
    this.hash.bytes(e.bytes);
    if (this.recorder) this.recordOutcome(this.recorder, e);
    if (e.channel === "response" && this.admin && e.to === this.admin.endpoint) {
      const msg = this.decodeChecked(e.bytes, "response");
      if (msg !== undefined)
        this.handleAdminOutputs(this.admin.core.step({ type: "response", from: e.from, msg }));
      return;
    }
    if (e.channel === "response") {
      const c = this.clients[e.to - this.n]!;
      const msg = this.decodeChecked(e.bytes, "response");
      if (msg === undefined) return;
      this.handleClientOutputs(c, c.core.step({ type: "response", from: e.from, msg }), msg);
      return;
    }
    const r = this.replicas[e.to]!;
    if (!r.up) return;
    if (this.deferIfPaused(r, e)) return;
    if (this.faultyClient?.endpoint === e.from && !this.decodes(e.bytes, e.channel)) {
      // The faulty client's junk: a real replica's decoder refuses it (and counts it).
      this.stats.faultyClientMalformed++;
      return;
    }
    const msg = this.decodeChecked(e.bytes, e.channel);
    if (msg === undefined) return;
    if (e.channel === "peer") {
      if (this.sweepCrash(r, "before", `a message from r${e.from}`)) return;
      r.node!.handle({ type: "peer", from: e.from, msg });
      if (this.sweepCrash(r, "after", `a message from r${e.from}`)) return;
      // Crash points right after a replica acted on a message: where it has answered (a vote,
      // an ack) but its next durable write has not happened yet.
      // Only while faults run, like the other storms: once they stop, liveness is owed.
      if (
        this.profile.electionStorm &&
        this.phase === "load" &&
        this.now >= this.scenarioUntil &&
        this.random.chance(0.006)
      ) {
        this.trace(() => `storm: crash r${r.id} right after a message from r${e.from}`);
        this.crash(r, 2 * us + this.random.int(30 * us));
      }
    } else {
      r.node!.handle({ type: "client", client: e.client, msg, mono: this.monoOf(r) });
    }
  }

  /** What becomes of a delivery (the structured trace); a paused receiver's comes later. */
  private recordOutcome(recorder: TraceRecorder, e: SimEvent & { k: "deliver" }): void {
    if (e.channel === "response") {
      recorder.outcome(this.now, e, this.decodes(e.bytes, e.channel) ? "delivered" : "malformed");
      return;
    }
    const r = this.replicas[e.to]!;
    if (!r.up) recorder.outcome(this.now, e, "receiver-down");
    else if (r.pausedUntil > this.now) return;
    else
      recorder.outcome(this.now, e, this.decodes(e.bytes, e.channel) ? "delivered" : "malformed");
  }

  private decodes(bytes: Uint8Array, channel: Channel): boolean {
    try {
      decode(bytes, this.definition.schemas[channel]);
      return true;
    } catch (error) {
      if (!(error instanceof DecodeError)) throw error;
      return false;
    }
  }

  private decodeChecked(bytes: Uint8Array, channel: Channel): unknown {
    try {
      return decode(bytes, this.definition.schemas[channel]);
    } catch (error) {
      if (!(error instanceof DecodeError)) throw error;
      // Correct nodes must only send what their own schema accepts.
      this.violations.push(`a ${channel} message failed its schema: ${error.message}`);
      return undefined;
    }
  }

  // ---- clients -----------------------------------------------------------------------------

  private invoke(c: SimClient<WireTypes>): void {
    if (this.phase !== "load" || c.current) return;
    const op = this.kit.nextOperation(c.random, c.index);
    this.stats.operations++;
    this.hash.u32(0x1a7e);
    this.hash.number(c.index);
    this.trace(() => `invoke ${c.name} ${JSON.stringify(op.value)}`);
    this.recorder?.invoked(this.now, this.n + c.index, c.name, this.nextHistoryId, op.value);
    this.handleClientOutputs(c, c.invoke(op, this.now, this.nextHistoryId++), undefined);
  }

  private handleClientOutputs(
    c: SimClient<WireTypes>,
    outputs: readonly ClientOutput<WireTypes>[],
    via: unknown,
  ): void {
    for (const out of outputs) {
      if (out.type === "send") {
        this.send(this.n + c.index, out.to, "request", out.msg, c.core.clientId);
        continue;
      }
      if (out.type === "broadcast") {
        for (let to = 0; to < this.n; to++)
          this.send(this.n + c.index, to, "request", out.msg, c.core.clientId);
        continue;
      }
      const indeterminate = out.indeterminate === true;
      const historyId =
        this.recorder && c.current?.opId === out.opId ? c.current.historyId : undefined;
      if (!c.finish(out.opId, out.result, indeterminate, this.now)) continue;
      if (this.recorder && historyId !== undefined) {
        const outcome = out.result.ok ? "ok" : indeterminate ? "indeterminate" : "failed";
        this.recorder.finished(this.now, historyId, outcome, out.result);
      }
      this.trace(
        () =>
          `done ${c.name} ${JSON.stringify(out.result)}${indeterminate ? " (indeterminate)" : ""}`,
      );
      if (out.result.ok && via !== undefined) this.checkAccepted(via, out.result);
      // Clients mostly keep busy, and now and then think for a while (so that a client may
      // come back to a leader it knew after the cluster has moved on without it).
      const think = this.random.chance(0.01) ? 1000 : 10;
      if (this.phase === "load")
        this.schedule(this.random.int(think * us), { k: "invoke", client: c.index });
    }
  }

  private checkAccepted(msg: unknown, result: ReplyResult): void {
    const m = msg as { type?: string; client?: string; seq?: number; qid?: number };
    if (typeof m.client !== "string") return;
    if (m.type === "reply" && typeof m.seq === "number")
      this.checker.onAccept(m.client, "command", m.seq, result);
    else if (m.type === "queryReply" && typeof m.qid === "number")
      this.checker.onAccept(m.client, "query", m.qid, result);
  }

  // ---- faults ------------------------------------------------------------------------------

  private nemesisDelay(): number {
    // Exponential gaps around the seed's pace, never below 5 ms.
    return 5 * us + Math.floor(-Math.log(1 - this.random.next()) * this.profile.meanGapUs);
  }

  private lastLeader: { id: number; term: number; commit: number } | undefined;

  private watchElections(): void {
    let leader: { id: number; term: number; commit: number } | undefined;
    let campaigning = false;
    for (const r of this.replicas) {
      if (!r.up || !r.node) continue;
      const status = r.node.core.status(true);
      if (this.definition.status.leads(status) && (!leader || status.term > leader.term)) {
        leader = { id: r.id, term: status.term, commit: status.commitIndex };
      }
      if (this.definition.status.campaigning(status)) campaigning = true;
    }
    const previous = this.lastLeader;
    this.lastLeader = leader;
    if (leader && (leader.id !== previous?.id || leader.term !== previous?.term)) {
      if (this.random.chance(0.5)) {
        this.trace(() => `storm: crash new leader r${leader.id} (term ${leader.term})`);
        this.crash(this.replicas[leader.id]!, 5 * us + this.random.int(200 * us));
      }
      return;
    }
    // A leader that has just advanced its commit index: crash it before followers hear of it.
    if (leader && previous && leader.commit > previous.commit && this.random.chance(0.25)) {
      // Cut it off first: what it sent since is lost in flight, as on a real network.
      this.network.apply("isolate-leader", this.random, leader.id);
      this.stats.partitions++;
      this.traceFault(
        "partition",
        [leader.id],
        () => `storm: isolate and crash r${leader.id} right after it committed ${leader.commit}`,
      );
      this.crash(this.replicas[leader.id]!, 5 * us + this.random.int(200 * us));
      return;
    }
    if (campaigning && this.random.chance(0.05)) {
      const voters = this.replicas.filter((r) => {
        if (!r.up || !r.node) return false;
        const status = r.node.core.status(true);
        return !this.definition.status.leads(status) && !this.definition.status.campaigning(status);
      });
      const victim = voters[this.random.int(Math.max(1, voters.length))];
      if (victim) {
        this.trace(() => `storm: crash voter r${victim.id} during an election`);
        this.crash(victim, 2 * us + this.random.int(30 * us));
      }
    }
  }

  /** A victim for a crash or pause: the leader when the profile aims there, else anyone up. */
  private pickVictim(): SimReplica | undefined {
    const up = this.replicas.filter((r) => r.up && r.pausedUntil <= this.now);
    if (up.length === 0) return undefined;
    if (this.random.chance(this.profile.targetLeader)) {
      const leader = this.leader();
      const r = leader === undefined ? undefined : this.replicas[leader];
      if (r && up.includes(r)) return r;
    }
    return up[this.random.int(up.length)];
  }

  /**
   * The process-pause fault of issue 11: the leader stops (SIGSTOP) while cut off from the other
   * replicas, long enough for them to elect a new leader, and on resuming handles the client
   * requests that queued up before its next tick. A lease checked against the last tick's clock
   * looks fresh then, and reads go stale.
   */
  private pauseStaleLeader(victim: SimReplica): void {
    this.network.apply("isolate-leader", this.random, victim.id);
    this.stats.partitions++;
    victim.pausedUntil = this.now + 300 * us + this.random.int(1200 * us);
    victim.inputsBeforeTick = true;
    this.stats.pauses++;
    const healAfter = victim.pausedUntil - this.now + 50 * us + this.random.int(500 * us);
    this.scenarioUntil = this.now + healAfter;
    this.schedule(healAfter, { k: "heal", partition: this.network.partition });
    this.traceFault(
      "pause",
      [victim.id],
      () =>
        `pause leader r${victim.id} cut off from peers until ${(victim.pausedUntil / us).toFixed(3)}, inputs before its next tick`,
      victim.pausedUntil,
    );
  }

  /** Every replica up and running: a scenario fault can start (it replaces any partition). */
  private calm(): boolean {
    return this.replicas.every((r) => r.up && r.pausedUntil <= this.now);
  }

  /** Until then a scenario fault (pauseStaleLeader) plays out alone: no other fault starts. */
  private scenarioUntil = 0;

  private leader(): number | undefined {
    let best: { id: number; status: CoreStatus } | undefined;
    for (const r of this.replicas) {
      if (!r.up || !r.node) continue;
      const status = r.node.core.status();
      if (this.definition.status.leads(status) && (!best || status.term > best.status.term))
        best = { id: r.id, status };
    }
    return best?.id;
  }

  private nemesis(): void {
    const choices = this.profile.kinds;
    if (choices.length === 0) return;
    const kind = choices[this.random.int(choices.length)]!;
    this.hash.u32(0x4e4d);
    this.hash.string(kind);
    switch (kind) {
      case "network":
        this.network.quality = this.random.chance(0.3)
          ? calmNetwork
          : {
              dropRate: this.random.next() * 0.1,
              duplicateRate: this.random.next() * 0.05,
              tailRate: this.random.next() * 0.05,
            };
        this.traceFault("network", [], () => `network ${JSON.stringify(this.network.quality)}`);
        break;
      case "partition":
        if (this.network.partition !== "none" && this.random.chance(0.5)) {
          this.network.heal();
        } else {
          const shape = this.random.chance(this.profile.targetLeader)
            ? "isolate-leader"
            : partitionShapes[this.random.int(partitionShapes.length)]!;
          this.network.apply(shape, this.random, this.leader());
          this.stats.partitions++;
          // Protocols with an external service (the P/B arbiter): sometimes cut one replica,
          // often the leader, off from it too. Drawn only for them, so other seeds replay as before.
          if (this.external && this.random.chance(0.5)) {
            const leader = this.leader();
            const cut =
              leader !== undefined && this.random.chance(0.5) ? leader : this.random.int(this.n);
            this.network.externalCut.add(cut);
            this.network.partition += `+r${cut}-external`;
          }
        }
        this.traceFault(
          this.network.partition === "none" ? "heal" : "partition",
          [],
          () => `partition ${this.network.partition}`,
        );
        break;
      case "crash": {
        const victim = this.pickVictim();
        if (victim) this.crash(victim);
        break;
      }
      case "pause": {
        const leader = this.leader();
        const victim = this.pickVictim();
        if (leader !== undefined && this.calm() && !this.twins && this.random.chance(0.5)) {
          this.pauseStaleLeader(this.replicas[leader]!);
        } else if (victim) {
          victim.pausedUntil = this.now + 20 * us + this.random.int(this.profile.pauseMaxUs);
          this.stats.pauses++;
          this.traceFault(
            "pause",
            [victim.id],
            () => `pause r${victim.id} until ${(victim.pausedUntil / us).toFixed(3)}`,
            victim.pausedUntil,
          );
        }
        break;
      }
      case "clock": {
        // Clock changes during leadership matter most (leases): aim at the leader as often as
        // crashes and pauses do.
        const leader = this.leader();
        const victim =
          leader !== undefined && this.random.chance(this.profile.targetLeader)
            ? this.replicas[leader]!
            : this.replicas[this.random.int(this.n)]!;
        this.monoOf(victim); // the monotonic clock changes rate from here on, without a jump
        victim.clockRate = 0.9 + this.random.next() * 0.2;
        victim.clockOffsetMs += this.random.int(2001) - 1000;
        this.traceFault(
          "clock",
          [victim.id],
          () => `clock r${victim.id} rate=${victim.clockRate.toFixed(3)}`,
        );
        break;
      }
      case "membership":
        this.changeMembership();
        break;
      default:
        break;
    }
  }

  /** Asks the cluster to add a non-member or remove a voter, as an operator would. */
  private changeMembership(): void {
    const admin = this.admin;
    const rules = this.protocol.membership;
    if (!admin || !rules || admin.busy) return;
    const leader = this.leader();
    const status = leader === undefined ? undefined : this.replicas[leader]?.node?.core.status();
    const members = status && this.definition.status.members(status);
    if (!members) return;
    const { voters, learners } = members;
    const outside = this.replicas
      .map((r) => r.id)
      .filter((id) => !voters.includes(id) && !learners.includes(id));
    let admin_op: AdminOp;
    const others = voters.filter((id) => id !== leader);
    if (others.length > 0 && this.random.chance(0.2)) {
      // Leadership transfers under load (the target campaigns past the voters' stickiness).
      admin_op = { op: "transfer", to: others[this.random.int(others.length)]! };
    } else if (
      outside.length > 0 &&
      (voters.length <= rules.minVoters || this.random.chance(0.5))
    ) {
      admin_op = { op: "add", replica: outside[this.random.int(outside.length)]! };
    } else if (voters.length > rules.minVoters) {
      admin_op = { op: "remove", replica: voters[this.random.int(voters.length)]! };
    } else {
      return;
    }
    admin.busy = true;
    admin.accessChange = false;
    this.hash.u32(0xad31);
    this.hash.string(JSON.stringify(admin_op));
    this.trace(() => `admin ${JSON.stringify(admin_op)} (voters ${voters.join(",")})`);
    this.handleAdminOutputs(
      admin.core.step({ type: "admin", opId: admin.nextOp++, admin: admin_op }),
    );
  }

  private roleChangeDelay(): number {
    return (roleChangeGapMs.min + this.rolesRandom.int(roleChangeGapMs.spread)) * us;
  }

  /** The operator changes one client's access, if it is not waiting for another request. */
  private changeRole(): void {
    const admin = this.admin;
    if (!admin || admin.busy) return;
    const change = pickRoleChange(this.rolesRandom, this.options.clients, ++this.rotations);
    admin.busy = true;
    admin.accessChange = true;
    this.hash.u32(0x701e);
    this.hash.string(JSON.stringify(change));
    this.trace(() => `admin ${JSON.stringify(change)}`);
    this.handleAdminOutputs(
      admin.core.step({ type: "admin", opId: admin.nextOp++, admin: change }),
    );
  }

  private handleAdminOutputs(outputs: readonly ClientOutput<WireTypes>[]): void {
    const admin = this.admin!;
    for (const out of outputs) {
      if (out.type === "send") {
        this.send(admin.endpoint, out.to, "request", out.msg, admin.core.clientId);
      } else if (out.type === "broadcast") {
        for (let to = 0; to < this.n; to++)
          this.send(admin.endpoint, to, "request", out.msg, admin.core.clientId);
      } else {
        admin.busy = false;
        if (out.result.ok) {
          if (admin.accessChange) this.stats.roleChanges++;
          else this.stats.membershipChanges++;
        }
        this.trace(() => `admin done ${JSON.stringify(out.result)}`);
      }
    }
  }

  private faultsStoppedAt = 0;

  /** Every correct replica is up, in one epoch (view, term), and none is campaigning. */
  /** In the liveness phase, the protocol declares redundancy and it is not restored yet. */
  private awaitingRedundancy(): boolean {
    return (
      this.phase === "liveness" &&
      this.stats.redundantMs < 0 &&
      this.definition.status.redundant !== undefined &&
      this.replicas.length > 1
    );
  }

  private isRedundant(): boolean {
    const redundant = this.definition.status.redundant!;
    return this.replicas.some(
      (r) => !this.faulty.has(r.id) && r.up && r.node && redundant(r.node.core.status()),
    );
  }

  private epochSettled(): boolean {
    let epoch: number | undefined;
    for (const r of this.replicas) {
      if (this.faulty.has(r.id)) continue;
      if (!r.up || !r.node) return false;
      const status = r.node.core.status(true);
      if (this.definition.status.campaigning(status)) return false;
      if (epoch !== undefined && status.term !== epoch) return false;
      epoch = status.term;
    }
    return true;
  }

  private endFaults(): void {
    this.phase = "liveness";
    this.faultsStoppedAt = this.now;
    this.network.heal();
    this.twins?.heal();
    this.network.quality = calmNetwork;
    for (const r of this.replicas) {
      r.pausedUntil = Math.min(r.pausedUntil, this.now);
      if (!r.up) this.start(r);
    }
    this.traceFault("faults-stop", [], () => "faults stop: healed, all replicas up");
  }

  // ---- verdict -----------------------------------------------------------------------------

  private finish(started: number): SimResult {
    this.phase = "done";
    const stuck = this.clients.filter((c) => c.current);
    if (stuck.length > 0) {
      this.violations.push(
        `liveness: ${stuck.length} operation(s) still pending ${this.options.livenessBound}s after faults stopped (clients ${stuck
          .map((c) => c.name)
          .slice(0, 8)
          .join(", ")})`,
      );
    }
    for (const c of stuck) c.abandon();
    if (
      this.stats.redundantMs < 0 &&
      this.definition.status.redundant &&
      this.replicas.length > 1
    ) {
      this.violations.push(
        `redundancy: no primary with an in-sync backup ${this.options.livenessBound}s after faults stopped`,
      );
    }
    this.compareReplicas();
    const history = this.clients.flatMap((c) => c.history);
    // Without a model only agreement and exactly-once are checked (compareReplicas, checker).
    const linearizability = this.kit.model
      ? checkLinearizability(this.kit.model, history, { maxSteps: this.options.checkMaxSteps })
      : undefined;
    if (linearizability?.verdict === "violation") {
      const bad = linearizability.partitions.find((p) => p.verdict === "violation");
      this.violations.push(
        `linearizability: history is not linearizable\n${bad?.counterexample?.explanation ?? ""}`,
      );
    } else if (linearizability?.verdict === "unknown") {
      this.violations.push(
        `linearizability: unknown, the checker's ${linearizability.unknownReason} budget ran out (unknown is not a pass)`,
      );
    }
    for (const c of this.clients) {
      this.stats.completed += c.completed;
      this.stats.indeterminate += c.indeterminate;
      this.stats.failed += c.failed;
      this.stats.forbidden += c.forbidden;
    }
    this.stats.appliedEntries = this.checker.appliedEntries;
    for (const r of this.replicas) {
      if (r.node)
        this.stats.maxCommitIndex = Math.max(
          this.stats.maxCommitIndex,
          r.node.core.status(true).commitIndex,
        );
    }
    this.stats.faultyReplicas = this.faulty.size;
    for (const r of this.replicas) this.stats.segmentsDeleted += r.disk.segmentsDeleted;
    this.stats.elapsedMs = performance.now() - started;
    const violations = [...this.checker.violations, ...this.violations];
    return {
      options: this.options,
      ok: violations.length === 0,
      violations,
      traceHash: this.hash.hex(),
      stats: this.stats,
      linearizability,
      history,
      trace: this.traceLines,
    };
  }

  /** Correct replicas that applied the same prefix must hold byte-identical state. */
  private compareReplicas(): void {
    const byIndex = new Map<number, { id: number; digest: string }>();
    for (const r of this.replicas) {
      if (!r.node || this.faulty.has(r.id)) continue;
      const index = r.node.service.appliedIndex;
      const digest = createHash("sha256").update(r.node.service.snapshot()).digest("hex");
      const other = byIndex.get(index);
      if (!other) byIndex.set(index, { id: r.id, digest });
      else if (other.digest !== digest) {
        this.violations.push(
          `replicas ${other.id} and ${r.id} applied up to ${index} but hold different state`,
        );
      }
    }
  }
}

export function runSimulation(
  options: SimOptions,
  recordTrace = false,
  recorder?: TraceRecorder,
): SimResult {
  return new Simulation(options, recordTrace, recorder).run();
}

/**
 * The core as the simulator runs a correct replica: every step is followed by the protocol's
 * own invariant checks (ProtocolCore.assertInvariants), so a broken invariant fails the seed at
 * the step that broke it rather than when its consequences reach a client.
 */
function checkingInvariants(
  core: ProtocolCore<WireTypes>,
  afterStep: () => void,
): ProtocolCore<WireTypes> {
  const assert = core.assertInvariants?.bind(core) ?? (() => {});
  assert();
  return {
    id: core.id,
    step(input) {
      const out = core.step(input);
      assert();
      afterStep();
      return out;
    },
    status: (summaryOnly) => core.status(summaryOnly),
    assertInvariants: assert,
  };
}
