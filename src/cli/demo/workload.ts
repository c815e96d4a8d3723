import { Samples } from "../../bench/samples.js";
import { connect, type LockstepClient, LockstepError } from "../../client/index.js";
import type { ClusterConfig } from "../../core/config.js";
import { type ClusterKeyFile, clientKeyFile } from "../../net/keys.js";

export interface WorkloadOptions {
  readonly config: ClusterConfig;
  readonly keys: ClusterKeyFile;
  readonly clients: number;
  /** Time limit of each operation; a timed-out operation counts as an error (code "timeout"). */
  readonly timeoutMs: number;
  /** Milliseconds since the demo began: every time the workload records is on this clock. */
  readonly elapsed: () => number;
}

/** Keys every client writes and reads, so that reads see each other's writes. */
const sharedKeys = ["shared-0", "shared-1", "shared-2", "shared-3"];

/**
 * The demo's load: C clients, each with one operation outstanding at a time, through its own
 * LockstepClient. Four in ten operations put a key only that operation writes (so the demo can
 * read every acknowledged one back at the end and catch a lost write), three put a shared key, three
 * are linearizable gets of a shared key. It counts what succeeded and what failed, by error code.
 */
export class DemoWorkload {
  ok = 0;
  readonly errors = new Map<string, number>();
  /** Latency of each successful operation, ms. */
  readonly latenciesMs = new Samples();
  /** When each acknowledged put returned (ms since the demo began), ascending… */
  private readonly putAcks = new Samples();
  /** …and when it was issued (same order). */
  private readonly putStarts = new Samples();
  /** Acknowledged puts to keys nobody else writes: key → value. All must survive. */
  readonly acknowledged = new Map<string, string>();
  private lastCompletion: number;
  private gap = { ms: 0, endedAt: 0 };
  private stopping = false;
  /** When the last operation finished after stop() (the gap clock stops there). */
  private stoppedAt: number | undefined;
  private readonly loops: Promise<void>[];

  private constructor(
    private readonly options: WorkloadOptions,
    private readonly clients: readonly LockstepClient[],
  ) {
    this.lastCompletion = options.elapsed();
    this.loops = clients.map((client, i) => this.loop(client, i));
  }

  /** Connects the clients, then starts the load. */
  static async start(options: WorkloadOptions): Promise<DemoWorkload> {
    const clients = await Promise.all(
      Array.from({ length: options.clients }, (_, i) =>
        connect({
          config: options.config,
          keys: clientKeyFile(options.keys, `demo-${i}`),
          timeoutMs: options.timeoutMs,
        }),
      ),
    );
    return new DemoWorkload(options, clients);
  }

  get errorCount(): number {
    let n = 0;
    for (const count of this.errors.values()) n += count;
    return n;
  }

  /**
   * Replies the clients' votes rejected (PBFT: a lying or lagging replica's results), summed;
   * only replica `replica`'s when given.
   */
  outvoted(replica?: number): number {
    const name = replica === undefined ? "outvoted" : `outvoted-r${replica}`;
    let n = 0;
    for (const client of this.clients) n += client.protocolStats[name] ?? 0;
    return n;
  }

  /** The longest stretch with no operation completing, up to now or to the end of the load. */
  longestGap(): { readonly ms: number; readonly endedAt: number } {
    const now = this.stoppedAt ?? this.options.elapsed();
    const open = now - this.lastCompletion;
    return open > this.gap.ms ? { ms: open, endedAt: now } : this.gap;
  }

  /**
   * When the first put issued after `t` was acknowledged (ms since the demo began). Puts issued
   * before `t` are skipped: after a leader's SIGKILL at `t`, only a put issued later proves that
   * the cluster, not the dying leader, accepted writes again.
   */
  firstPutAfter(t: number): number | undefined {
    for (let i = this.putAcks.indexAbove(t); i < this.putAcks.length; i++) {
      if (this.putStarts.value(i) > t) return this.putAcks.value(i);
    }
    return undefined;
  }

  /** Lets every operation in flight finish (each within its time limit), then disconnects. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.loops);
    this.stoppedAt ??= this.options.elapsed();
    await Promise.all(this.clients.map((c) => c.close()));
  }

  /** Disconnects at once; operations in flight are abandoned (not counted). */
  async abort(): Promise<void> {
    this.stopping = true;
    this.stoppedAt ??= this.options.elapsed();
    await Promise.all(this.clients.map((c) => c.close()));
    await Promise.all(this.loops);
  }

  private async loop(client: LockstepClient, index: number): Promise<void> {
    for (let n = index; !this.stopping; n++) {
      const kind = n % 10;
      const shared = sharedKeys[Math.floor(Math.random() * sharedKeys.length)]!;
      const unique = kind < 4 ? `c${index}-${n}` : undefined;
      const value = `v${index}.${n}`;
      const started = performance.now();
      const issuedAt = this.options.elapsed();
      try {
        if (kind < 7) await client.invoke({ op: "put", key: unique ?? shared, value });
        else await client.query({ op: "get", key: shared });
        this.completed(performance.now() - started, kind < 7 ? issuedAt : undefined);
        if (unique !== undefined) this.acknowledged.set(unique, value);
      } catch (error) {
        if (this.stopping && error instanceof LockstepError && error.code === "closed") return;
        const code = error instanceof LockstepError ? error.code : "other";
        this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
        // A refusal returns at once; pause so that a client without a leader does not spin.
        if (performance.now() - started < 20) await new Promise((r) => setTimeout(r, 20));
      }
    }
  }

  /** An operation succeeded; `putIssuedAt` is set for puts. */
  private completed(latencyMs: number, putIssuedAt: number | undefined): void {
    const now = this.options.elapsed();
    this.ok++;
    this.latenciesMs.push(latencyMs);
    if (putIssuedAt !== undefined) {
      this.putAcks.push(now);
      this.putStarts.push(putIssuedAt);
    }
    if (now - this.lastCompletion > this.gap.ms) {
      this.gap = { ms: now - this.lastCompletion, endedAt: now };
    }
    this.lastCompletion = now;
  }
}
