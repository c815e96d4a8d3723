import { describe, expect, it } from "vitest";
import { ChartTracker } from "../../src/dashboard/live/chart-tracker.js";
import {
  bucketDelta,
  parseLatencyBuckets,
  quantileOf,
} from "../../src/dashboard/live/request-histogram.js";
import { Histogram, MetricsWriter } from "../../src/runtime/prometheus.js";
import type { ReplicaStatus } from "../../src/runtime/status.js";
import { fakeStatus, sample, up } from "./fake-status.js";

/** /metrics text with one latency histogram per kind, as a replica writes it. */
function metricsText(observations: Record<string, readonly number[]>): string {
  const w = new MetricsWriter();
  for (const [kind, seconds] of Object.entries(observations)) {
    const h = new Histogram([0.001, 0.01, 0.1, 1]);
    for (const s of seconds) h.observe(s);
    w.histogram("lockstep_client_request_duration_seconds", "latency", h.snapshot(), {
      replica: "0",
      kind,
    });
  }
  return w.text();
}

function withReplies(status: ReplicaStatus, ok: number, errors = 0): ReplicaStatus {
  return fakeStatus(status.replica, {
    ...status,
    requests: {
      ...status.requests,
      replies: [
        { kind: "command", result: "ok", count: ok },
        { kind: "command", result: "not-leader", count: errors },
      ],
    },
  });
}

describe("latency histograms read from /metrics", () => {
  it("sums the kinds per bound and estimates quantiles from the requests between two polls", () => {
    const before = parseLatencyBuckets(metricsText({ command: [0.0005], read: [0.05] }))!;
    expect(before.bounds).toEqual([0.001, 0.01, 0.1, 1, Number.POSITIVE_INFINITY]);
    expect(before.cumulative).toEqual([1, 1, 2, 2, 2]);
    const after = parseLatencyBuckets(
      metricsText({ command: [0.0005, 0.005, 0.005, 0.005], read: [0.05, 0.5] }),
    )!;
    const delta = bucketDelta(before, after)!;
    expect(delta).toEqual([0, 3, 0, 1, 0]);
    // Interpolated within the bucket, as histogram_quantile: rank 2 of the 3 in (1 ms, 10 ms].
    expect(quantileOf(after.bounds, delta, 0.5)).toBeCloseTo(0.007, 9);
    expect(quantileOf(after.bounds, delta, 0.99)).toBeCloseTo(0.964, 9);
    expect(quantileOf(after.bounds, [0, 0, 0, 0, 2], 0.5)).toBe(1);
    expect(quantileOf(after.bounds, [0, 0, 0, 0, 0], 0.5)).toBeUndefined();
    // A counter that went down is a restarted replica: no delta.
    expect(bucketDelta(after, before)).toBeUndefined();
    expect(parseLatencyBuckets("lockstep_term 3\n")).toBeUndefined();
  });
});

describe("the chart points", () => {
  it("takes the highest per-replica rate of ok replies, and none across a restart", () => {
    const tracker = new ChartTracker(2_000);
    const a = fakeStatus(0, { pid: 1 });
    const b = fakeStatus(1, { pid: 2 });
    expect(
      tracker.point(sample(0, up(withReplies(a, 0)), up(withReplies(b, 0)))).opsPerSecond,
    ).toBeNull();
    // In 500 ms: r0 replied 100 times (and 7 errors, not counted), r1 20 times.
    const p = tracker.point(sample(500, up(withReplies(a, 100, 7)), up(withReplies(b, 20))));
    expect(p.opsPerSecond).toBe(200);
    const restarted = fakeStatus(0, { pid: 3 });
    const q = tracker.point(sample(1_000, up(withReplies(restarted, 5)), up(withReplies(b, 20))));
    expect(q.opsPerSecond).toBe(0);
  });

  it("merges the latency buckets of every replica over the window", () => {
    const tracker = new ChartTracker(2_000);
    const s = fakeStatus(0);
    const at = (t: number, seconds: readonly number[]) => ({
      replica: 0,
      at: t,
      status: s,
      buckets: parseLatencyBuckets(metricsText({ command: seconds }))!,
    });
    tracker.point({ at: 0, replicas: [at(0, [])] });
    const fast = tracker.point({ at: 500, replicas: [at(500, [0.0005, 0.0005, 0.0005])] });
    expect(fast.p50Ms).toBeCloseTo(0.5, 9);
    expect(fast.p99Ms).toBeCloseTo(0.99, 9);
    const slow = tracker.point({
      at: 1_000,
      replicas: [at(1_000, [0.0005, 0.0005, 0.0005, 0.5, 0.5, 0.5, 0.5])],
    });
    // 3 fast and 4 slow requests: the median is in the slow ones' bucket (100 ms, 1 s].
    expect(slow.p50Ms).toBeCloseTo(212.5, 9);
    // 2 s on, the fast requests have left the window; later still, every request has.
    const same = [0.0005, 0.0005, 0.0005, 0.5, 0.5, 0.5, 0.5];
    expect(tracker.point({ at: 2_600, replicas: [at(2_600, same)] }).p50Ms).toBeCloseTo(550, 9);
    expect(tracker.point({ at: 3_100, replicas: [at(3_100, same)] }).p50Ms).toBeNull();
  });
});
