import type { ClusterConfig } from "../core/config.js";
import { LocalCluster, type ReplicaOutput } from "../runtime/local-cluster.js";
import type { LogLevel } from "../runtime/logger.js";
import type { ReplicaStatus } from "../runtime/status.js";
import { type FaultSlot, freshFaultSlot, type ReplicaFaults } from "./replica-faults.js";
import { ReplicaLogs } from "./replica-logs.js";
import { RestartTracker } from "./up-restart-policy.js";

export interface SupervisorOptions {
  readonly config: ClusterConfig;
  readonly configFile: string;
  readonly keyFile: (id: number) => string;
  readonly dataDir: (id: number) => string;
  readonly service: string;
  readonly logLevel: LogLevel;
  /** The replicas this process runs (the others may run elsewhere). */
  readonly ids: readonly number[];
  /** Restart replicas that exit on their own (false: only report). */
  readonly restart: boolean;
  /** Each replica's stderr lines are appended to logsDir/replica-<i>.log. */
  readonly logsDir: string;
  /** Replicas to start Byzantine (`up --byzantine r0=equivocate`): id → behaviour. */
  readonly byzantine?: ReadonlyMap<number, string>;
  /** One line of event output (stdout). */
  readonly print: (line: string) => void;
}

/** What the supervisor tracks about one replica across its restarts. */
export interface Slot extends FaultSlot {
  readonly tracker: RestartTracker;
  startedAt: number;
  restarts: number;
}

/** What the dashboard's fault buttons may reach inside a Supervisor. */
export type SupervisorFaults = ReplicaFaults;

const readyHintAfterMs = 15_000;
const pollMs = 250;

/**
 * The replica that a majority of the local replicas follow in the newest term they know, or
 * undefined. With every replica local that is a majority of the cluster; with `--only` the leader
 * may be a replica running elsewhere.
 */
export function readyLeader(
  statuses: readonly (ReplicaStatus | undefined)[],
  localCount: number,
): { readonly leader: number; readonly term: number } | undefined {
  const answers = statuses.filter((s): s is ReplicaStatus => s !== undefined);
  if (answers.length === 0) return undefined;
  const term = Math.max(...answers.map((s) => s.term));
  const current = answers.filter((s) => s.term === term);
  const leader =
    current.find((s) => s.leads)?.replica ?? current.find((s) => s.leader !== null)?.leader;
  if (leader === undefined || leader === null) return undefined;
  const agree = current.filter((s) => s.leader === leader || s.replica === leader).length;
  return agree > localCount / 2 ? { leader, term } : undefined;
}

function seconds(ms: number): string {
  return ms < 60_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}

/** Fields of a log line other than the ones every line has, for a one-line echo. */
function extraFields(line: Readonly<Record<string, unknown>>): string {
  const rest = Object.fromEntries(
    Object.entries(line).filter(([k]) => !["ts", "level", "replica", "msg"].includes(k)),
  );
  return Object.keys(rest).length === 0 ? "" : ` ${JSON.stringify(rest)}`;
}

/**
 * Runs replicas as child processes (LocalCluster), reports what happens to them one line per
 * event, and restarts those that exit on their own (policy: up-restart-policy.ts).
 */
export class Supervisor {
  /** Resolves once every supervised replica is down for good (and none will be restarted). */
  readonly allDown: Promise<void>;
  private readonly cluster: LocalCluster;
  private readonly slots = new Map<number, Slot>();
  private stopping = false;
  private ready = false;
  private readonly logs: ReplicaLogs;
  private resolveAllDown: () => void = () => {};

  constructor(private readonly options: SupervisorOptions) {
    this.allDown = new Promise((resolve) => {
      this.resolveAllDown = resolve;
    });
    this.logs = new ReplicaLogs(options.logsDir, (id, file, error) =>
      // Losing the log file must not take the supervisor (and so the cluster) down.
      options.print(`r${id}: cannot write ${file}: ${error.message}`),
    );
    this.cluster = new LocalCluster({
      config: options.config,
      configFile: options.configFile,
      keyFile: options.keyFile,
      dataDir: options.dataDir,
      service: options.service,
      logLevel: options.logLevel,
      detached: true,
      replicaArgs: (id) => {
        const behaviour = this.slots.get(id)?.behaviour;
        return behaviour === undefined ? [] : ["--byzantine", behaviour];
      },
      onOutput: (id, output) => this.onOutput(id, output),
      onExit: (id, code, signal) => this.onExit(id, code, signal),
    });
    for (const id of options.ids) {
      this.slots.set(id, {
        ...freshFaultSlot(id, options.byzantine?.get(id)),
        tracker: new RestartTracker(),
        startedAt: 0,
        restarts: 0,
      });
    }
  }

  /** Starts every replica and reports when the cluster has a leader. */
  start(): void {
    for (const slot of this.slots.values()) this.spawn(slot);
    void this.announceLeader();
  }

  /** Graceful stop: SIGTERM to every replica, SIGKILL after `graceMs`; no more restarts. */
  async stop(graceMs: number): Promise<void> {
    this.halt();
    await this.cluster.stop(graceMs);
    this.logs.close();
  }

  /** SIGKILL to every replica, now. */
  async kill(): Promise<void> {
    this.halt();
    await Promise.all(this.options.ids.map((id) => this.cluster.kill(id, "SIGKILL")));
    this.logs.close();
  }

  /** SIGKILL to every replica without waiting: for process "exit", where nothing async runs. */
  killNow(): void {
    this.halt();
    for (const child of this.cluster.children) {
      if (child?.alive) child.process.kill("SIGKILL");
    }
  }

  private halt(): void {
    this.stopping = true;
    for (const slot of this.slots.values()) {
      clearTimeout(slot.timer);
      slot.timer = undefined;
      // A replica paused from the dashboard must run again to act on the coming SIGTERM.
      if (slot.paused) this.cluster.children[slot.id]?.process.kill("SIGCONT");
      slot.paused = false;
    }
  }

  private spawn(slot: Slot): void {
    slot.startedAt = Date.now();
    // A new process: running, and with its links whole.
    slot.paused = false;
    slot.cut = false;
    let pid: number | undefined;
    try {
      pid = this.cluster.start(slot.id).pid;
    } catch (error) {
      this.options.print(`r${slot.id} could not be started: ${(error as Error).message}`);
      this.markDown(slot);
      return;
    }
    // Below info the replica does not log "started": report the spawn instead.
    if (this.options.logLevel === "warn" || this.options.logLevel === "error") {
      const address = this.options.config.replicas[slot.id];
      this.options.print(
        `r${slot.id} started: pid ${pid ?? "?"}, port ${address?.port ?? "?"}, metrics port ${address?.metricsPort ?? "?"}${this.restartNote(slot)}`,
      );
    }
  }

  private restartNote(slot: Slot): string {
    return slot.restarts === 0 ? "" : ` (restart ${slot.restarts})`;
  }

  private onOutput(id: number, output: ReplicaOutput): void {
    const slot = this.slots.get(id);
    if (slot === undefined) return;
    this.logs.write(id, output);
    const print = this.options.print;
    if (output.kind === "text") {
      // Plain stderr lines are startup errors and crash reports.
      print(`r${id}: ${output.text}`);
      return;
    }
    const line = output.line;
    if (line.msg === "started") {
      const pid = this.cluster.children[id]?.pid ?? "?";
      print(
        `r${id} started: pid ${pid}, port ${String(line.port)}, metrics port ${String(line.metricsPort ?? "none")}${this.restartNote(slot)}`,
      );
    } else if (line.msg === "role changed" && line.leads === true && this.ready) {
      // Only elections: followers' and candidates' role changes would drown the output.
      const epoch = typeof line.epochName === "string" ? line.epochName : "term";
      print(`r${id} became ${String(line.role)} (${epoch} ${String(line.term)})`);
    }
    if (line.level === "warn" || line.level === "error") {
      print(`r${id} ${line.level}: ${line.msg}${extraFields(line)}`);
    }
  }

  private onExit(id: number, code: number | null, signal: NodeJS.Signals | null): void {
    const slot = this.slots.get(id);
    if (slot === undefined) return;
    const how = signal === null ? `code ${code ?? "?"}` : `signal ${signal}`;
    const print = this.options.print;
    if (this.stopping) {
      print(`r${id} exited (${how})`);
      return;
    }
    const ran = Date.now() - slot.startedAt;
    const exited = `r${id} exited (${how}) after ${seconds(ran)}`;
    slot.paused = false;
    if (slot.held) {
      print(`${exited}: stopped from the dashboard (it restarts only from there)`);
      return;
    }
    if (!this.options.restart) {
      print(`${exited}; not restarting (--no-restart)`);
      this.markDown(slot);
      return;
    }
    const decision = slot.tracker.onExit(ran, code);
    if (decision.kind === "give up") {
      print(`${exited}: ${decision.reason}`);
      this.markDown(slot);
      return;
    }
    print(`${exited}; restarting in ${seconds(decision.delayMs)}`);
    slot.timer = setTimeout(() => {
      slot.timer = undefined;
      if (this.stopping) return;
      slot.restarts++;
      this.spawn(slot);
    }, decision.delayMs);
  }

  /** The supervisor's side of the dashboard's fault buttons (up-controls.ts). */
  get faults(): SupervisorFaults {
    return {
      config: this.options.config,
      ids: this.options.ids,
      slot: (id) => this.slots.get(id),
      child: (id) => this.cluster.children[id],
      print: this.options.print,
      respawn: (faultSlot) => {
        const slot = this.slots.get(faultSlot.id);
        if (slot === undefined) return;
        clearTimeout(slot.timer);
        slot.timer = undefined;
        slot.down = false;
        slot.held = false;
        slot.restarts++;
        this.spawn(slot);
      },
      stopping: () => this.stopping,
    };
  }

  private markDown(slot: Slot): void {
    slot.down = true;
    if ([...this.slots.values()].every((s) => s.down)) {
      this.options.print("every replica is down for good");
      this.resolveAllDown();
    }
  }

  /** Polls /status until a leader is known, prints "cluster ready" once. */
  private async announceLeader(): Promise<void> {
    const since = Date.now();
    let hinted = false;
    while (!this.stopping) {
      const statuses = await this.cluster.statuses(500);
      const found = readyLeader(statuses, this.slots.size);
      if (this.stopping) return;
      if (found !== undefined) {
        this.ready = true;
        // "term" for Raft, "view" for PBFT: the word the protocol uses.
        const epoch = statuses.find((s) => s !== undefined)?.epochName ?? "term";
        this.options.print(`cluster ready: leader r${found.leader}, ${epoch} ${found.term}`);
        return;
      }
      if (!hinted && Date.now() - since > readyHintAfterMs) {
        hinted = true;
        this.options.print(
          `no leader yet after ${readyHintAfterMs / 1000} s (a majority of the ${this.options.config.replicas.length} replicas must be running)`,
        );
      }
      // unref: a pending poll must not keep the process alive once everything is stopped.
      await new Promise((resolve) => setTimeout(resolve, pollMs).unref());
    }
  }
}
