import type { ReplicaStatus } from "../../runtime/status.js";
import type { ChartPoint } from "../web/shared/live-wire.js";
import type { ClusterSample, ReplicaSample } from "./replica-sample.js";
import { replicaIn } from "./replica-sample.js";
import { bucketDelta, quantileOf } from "./request-histogram.js";

/** Successful client replies this replica has sent since it started. */
export function okReplies(status: ReplicaStatus): number {
  return status.requests.replies.reduce((sum, r) => sum + (r.result === "ok" ? r.count : 0), 0);
}

/** The same process answered both polls (a restart resets every counter). */
function sameProcess(a: ReplicaSample, b: ReplicaSample): boolean {
  return a.status !== undefined && b.status !== undefined && a.status.pid === b.status.pid;
}

interface WindowEntry {
  readonly at: number;
  readonly bounds: readonly number[];
  readonly counts: readonly number[];
}

/**
 * Turns successive polls into chart points (docs/dashboard.md, "How the charts are computed"):
 *
 * - throughput: the highest per-replica rate of `ok` client replies between two polls. Raft and
 *   primary/backup reply from the leader alone; in PBFT every replica replies to every request,
 *   so a sum would count each operation several times and the highest rate is the cluster's.
 * - p50/p99: from the request latency histograms of /metrics: the requests that arrived within
 *   the last `windowMs` on every replica, merged; quantiles interpolated within their bucket.
 */
export class ChartTracker {
  private previous: ClusterSample | undefined;
  private readonly window: WindowEntry[] = [];

  constructor(private readonly windowMs = 2_000) {}

  point(sample: ClusterSample): ChartPoint {
    const previous = this.previous;
    this.previous = sample;
    if (previous === undefined)
      return { at: sample.at, opsPerSecond: null, p50Ms: null, p99Ms: null };
    let ops: number | null = null;
    for (const now of sample.replicas) {
      const before = replicaIn(previous, now.replica);
      if (before === undefined || !sameProcess(before, now)) continue;
      const seconds = (now.at - before.at) / 1000;
      if (seconds <= 0) continue;
      const rate = Math.max(0, okReplies(now.status!) - okReplies(before.status!)) / seconds;
      ops = Math.max(ops ?? 0, rate);
      if (before.buckets && now.buckets) {
        const counts = bucketDelta(before.buckets, now.buckets);
        if (counts) this.window.push({ at: sample.at, bounds: now.buckets.bounds, counts });
      }
    }
    while (this.window.length > 0 && this.window[0]!.at <= sample.at - this.windowMs)
      this.window.shift();
    const [p50, p99] = this.quantiles();
    return { at: sample.at, opsPerSecond: ops, p50Ms: p50, p99Ms: p99 };
  }

  private quantiles(): [number | null, number | null] {
    const first = this.window[0];
    if (first === undefined) return [null, null];
    const merged = first.bounds.map(() => 0);
    for (const entry of this.window) {
      if (entry.bounds.length !== merged.length) continue;
      entry.counts.forEach((c, i) => {
        merged[i]! += c;
      });
    }
    const ms = (q: number): number | null => {
      const s = quantileOf(first.bounds, merged, q);
      return s === undefined ? null : s * 1000;
    };
    return [ms(0.5), ms(0.99)];
  }
}
