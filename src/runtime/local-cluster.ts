import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { ClusterConfig } from "../core/config.js";
import type { LogLevel } from "./logger.js";
import type { ReplicaStatus } from "./status.js";
import { fetchReplicaStatus } from "./status-client.js";

/** One line a replica process wrote on stderr: a parsed JSON log line, or plain text. */
export type ReplicaOutput =
  | {
      readonly kind: "log";
      readonly line: { readonly msg: string; readonly level: string; [k: string]: unknown };
    }
  | { readonly kind: "text"; readonly text: string };

export interface LocalClusterOptions {
  readonly config: ClusterConfig;
  readonly configFile: string;
  /** The key file replica `id` starts with. */
  readonly keyFile: (id: number) => string;
  /** The data directory of replica `id`. */
  readonly dataDir: (id: number) => string;
  /** The replicated service (default kv). */
  readonly service?: string;
  readonly logLevel?: LogLevel;
  /**
   * Extra arguments for replica `id`'s command line, asked at each start (so a restart may
   * differ: the demo restarts a replica with --byzantine).
   */
  readonly replicaArgs?: (id: number) => readonly string[];
  /** Extra arguments for node itself, before the script (e.g. --cpu-prof). */
  readonly nodeArgs?: readonly string[];
  /** Every stderr line of every replica, as it arrives. */
  readonly onOutput?: (id: number, output: ReplicaOutput) => void;
  /**
   * Start each replica in its own process group (default false), so a terminal's Ctrl-C reaches
   * only this process, which then stops the replicas in order: a replica that got SIGINT from the
   * terminal and then SIGTERM from us would take the second signal as "exit now" and skip its flush.
   */
  readonly detached?: boolean;
  /** A replica process ended (on its own, or killed). */
  readonly onExit?: (id: number, code: number | null, signal: NodeJS.Signals | null) => void;
}

/** The entry point of the replica process, next to this module (dist) or in dist (tests on src). */
export function replicaMainPath(): string {
  const sibling = fileURLToPath(new URL("./replica-main.js", import.meta.url));
  if (existsSync(sibling)) return sibling;
  return fileURLToPath(new URL("../../dist/runtime/replica-main.js", import.meta.url));
}

/** A replica child process that LocalCluster started. */
export class ReplicaChild {
  /** Set when the process has exited. */
  exit: { readonly code: number | null; readonly signal: NodeJS.Signals | null } | undefined;
  /** The metrics port, from the configuration or the replica's `started` log line. */
  metricsPort: number | undefined;
  /** Plain-text stderr lines (startup errors are one such line). */
  readonly errors: string[] = [];
  readonly exited: Promise<void>;
  private pending = "";

  constructor(
    readonly id: number,
    readonly process: ChildProcess,
    metricsPort: number | undefined,
    onOutput: (output: ReplicaOutput) => void,
  ) {
    this.metricsPort = metricsPort;
    process.stdout?.resume();
    process.stderr?.setEncoding("utf8");
    process.stderr?.on("data", (chunk: string) => {
      this.pending += chunk;
      let at = this.pending.indexOf("\n");
      while (at >= 0) {
        const text = this.pending.slice(0, at);
        this.pending = this.pending.slice(at + 1);
        if (text.trim() !== "") onOutput(this.parse(text));
        at = this.pending.indexOf("\n");
      }
    });
    // A last line without a newline (a process that died mid-write) is still a line.
    process.stderr?.on("end", () => {
      const text = this.pending;
      this.pending = "";
      if (text.trim() !== "") onOutput(this.parse(text));
    });
    this.exited = new Promise((resolve) => {
      // "close", not "exit": "exit" can come before the last stderr chunks are read, and then
      // onExit would run before the one-line startup error reached `errors`.
      process.on("close", (code, signal) => {
        this.exit = { code, signal };
        resolve();
      });
      process.on("error", (error) => {
        this.errors.push(error.message);
        this.exit ??= { code: null, signal: null };
        resolve();
      });
    });
  }

  get alive(): boolean {
    return this.exit === undefined;
  }

  get pid(): number | undefined {
    return this.process.pid;
  }

  private parse(text: string): ReplicaOutput {
    if (text.startsWith("{")) {
      try {
        const line = JSON.parse(text) as { msg?: unknown; level?: unknown; metricsPort?: unknown };
        if (typeof line.msg === "string" && typeof line.level === "string") {
          if (line.msg === "started" && typeof line.metricsPort === "number") {
            this.metricsPort = line.metricsPort;
          }
          return { kind: "log", line: line as { msg: string; level: string } };
        }
      } catch {
        // not JSON after all: plain text
      }
    }
    this.errors.push(text);
    return { kind: "text", text };
  }
}

/**
 * Runs the replicas of one configuration as child processes of this one (`lockstep up`, `lockstep
 * bench`, the demo): starts, kills and restarts them, and reads their /status. Each child runs
 * `replica-main.js` with the same Node binary.
 */
export class LocalCluster {
  readonly children: (ReplicaChild | undefined)[];

  constructor(readonly options: LocalClusterOptions) {
    this.children = options.config.replicas.map(() => undefined);
  }

  get size(): number {
    return this.children.length;
  }

  /** Starts replica `id` (it must not be running). */
  start(id: number): ReplicaChild {
    const current = this.children[id];
    if (current?.alive) throw new Error(`replica ${id} is already running`);
    const address = this.options.config.replicas[id];
    if (address === undefined) throw new Error(`replica ${id} is not in the configuration`);
    const args = [
      ...(this.options.nodeArgs ?? []),
      replicaMainPath(),
      "--config",
      this.options.configFile,
      "--keys",
      this.options.keyFile(id),
      "--id",
      String(id),
      "--data",
      this.options.dataDir(id),
      "--service",
      this.options.service ?? "kv",
      "--log-level",
      this.options.logLevel ?? "info",
      ...(this.options.replicaArgs?.(id) ?? []),
    ];
    const child = spawn(process.execPath, args, {
      // The IPC channel is never written to: its closing tells the replica that this process is
      // gone (even after SIGKILL), and the replica then stops.
      stdio: ["ignore", "pipe", "pipe", "ipc"],
      detached: this.options.detached === true,
    });
    child.channel?.unref();
    const replica = new ReplicaChild(id, child, address.metricsPort, (output) =>
      this.options.onOutput?.(id, output),
    );
    void replica.exited.then(() =>
      this.options.onExit?.(id, replica.exit?.code ?? null, replica.exit?.signal ?? null),
    );
    this.children[id] = replica;
    return replica;
  }

  startAll(): void {
    for (let id = 0; id < this.size; id++) this.start(id);
  }

  /** Sends `signal` to replica `id` and waits for it to exit. */
  async kill(id: number, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    const child = this.children[id];
    if (!child?.alive) return;
    child.process.kill(signal);
    await child.exited;
  }

  /**
   * Stops every replica: SIGTERM (each flushes its storage and exits), then SIGKILL for any that
   * has not exited after `graceMs`.
   */
  async stop(graceMs = 5_000): Promise<void> {
    const alive = this.children.filter((c): c is ReplicaChild => c?.alive === true);
    for (const child of alive) child.process.kill("SIGTERM");
    const all = Promise.all(alive.map((c) => c.exited));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<"late">((resolve) => {
      timer = setTimeout(() => resolve("late"), graceMs);
    });
    if ((await Promise.race([all, late])) === "late") {
      for (const child of alive) if (child.alive) child.process.kill("SIGKILL");
      await all;
    }
    clearTimeout(timer);
  }

  /** Replica `id`'s /status, or undefined when it is down or does not answer in time. */
  async status(id: number, timeoutMs = 1_000): Promise<ReplicaStatus | undefined> {
    const child = this.children[id];
    if (!child?.alive || child.metricsPort === undefined) return undefined;
    try {
      // The replica serves /status where it listens (its configured host) by default.
      const host = this.options.config.replicas[id]?.host ?? "127.0.0.1";
      return await fetchReplicaStatus(host, child.metricsPort, timeoutMs);
    } catch {
      return undefined;
    }
  }

  /** Every replica's /status (undefined for those that do not answer), by id. */
  async statuses(timeoutMs = 1_000): Promise<(ReplicaStatus | undefined)[]> {
    return Promise.all(this.children.map((_, id) => this.status(id, timeoutMs)));
  }

  /**
   * Waits until one answering replica is leader and a majority of the cluster names it; returns
   * its status. Throws after `timeoutMs`, or early when a replica process has failed to start.
   */
  async waitForLeader(timeoutMs = 15_000, exclude?: number): Promise<ReplicaStatus> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const statuses = await this.statuses(500);
      const leaders = statuses.filter(
        (s): s is ReplicaStatus => s?.leads === true && s.replica !== exclude,
      );
      if (leaders.length === 1) {
        const leader = leaders[0]!;
        const followers = statuses.filter(
          (s) => s?.leader === leader.replica && s.term === leader.term,
        ).length;
        if (followers > this.size / 2) return leader;
      }
      const failed = this.children.find((c) => c !== undefined && !c.alive && c.errors.length > 0);
      if (failed && statuses.every((s) => s === undefined)) {
        throw new Error(`replica ${failed.id} exited: ${failed.errors.at(-1)}`);
      }
      if (Date.now() > deadline) throw new Error(`no leader after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
