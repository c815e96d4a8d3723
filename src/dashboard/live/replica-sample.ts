import type { ClusterConfig } from "../../core/config.js";
import type { ReplicaStatus } from "../../runtime/status.js";
import { fetchReplicaStatus, statusFailureReason } from "../../runtime/status-client.js";
import { type LatencyBuckets, parseLatencyBuckets } from "./request-histogram.js";

/** One poll of one replica: its /status and latency histogram, or why it did not answer. */
export interface ReplicaSample {
  readonly replica: number;
  /** When the poll finished (ms since the epoch). */
  readonly at: number;
  readonly status?: ReplicaStatus;
  readonly buckets?: LatencyBuckets;
  readonly error?: string;
}

/** All replicas of one poll, by id. */
export interface ClusterSample {
  readonly at: number;
  readonly replicas: readonly ReplicaSample[];
}

/** Replica `id`'s part of a poll. */
export function replicaIn(sample: ClusterSample, id: number): ReplicaSample | undefined {
  return sample.replicas.find((r) => r.replica === id);
}

function url(host: string, port: number, path: string): string {
  return `http://${host.includes(":") ? `[${host}]` : host}:${port}${path}`;
}

/** Polls replica `replica` of `config` once: /status, then /metrics (a missing one is no error). */
export async function sampleReplica(
  config: ClusterConfig,
  replica: number,
  timeoutMs: number,
  now: () => number = Date.now,
): Promise<ReplicaSample> {
  const address = config.replicas[replica];
  if (address?.metricsPort === undefined || address.host === undefined)
    return { replica, at: now(), error: "no metricsPort in the configuration" };
  const { host, metricsPort } = address;
  let status: ReplicaStatus;
  try {
    status = await fetchReplicaStatus(host, metricsPort, timeoutMs);
  } catch (error) {
    return { replica, at: now(), error: statusFailureReason(error, timeoutMs) };
  }
  if (status.replica !== replica)
    return { replica, at: now(), error: `its endpoint answers as replica ${status.replica}` };
  if (config.clusterId !== undefined && status.clusterId !== null) {
    if (status.clusterId !== config.clusterId)
      return { replica, at: now(), error: `answers for another cluster (${status.clusterId})` };
  }
  let buckets: LatencyBuckets | undefined;
  try {
    const response = await fetch(url(host, metricsPort, "/metrics"), {
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (response.ok) buckets = parseLatencyBuckets(await response.text());
  } catch {
    // The status answered: the replica is up; only the latency chart misses this poll.
  }
  return { replica, at: now(), status, ...(buckets && { buckets }) };
}

/** Polls every replica of `config` at once. */
export async function sampleCluster(
  config: ClusterConfig,
  timeoutMs: number,
  now: () => number = Date.now,
): Promise<ClusterSample> {
  const replicas = await Promise.all(
    config.replicas.map((_, id) => sampleReplica(config, id, timeoutMs, now)),
  );
  return { at: now(), replicas };
}
