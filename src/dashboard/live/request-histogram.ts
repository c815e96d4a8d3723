/**
 * The client request latency histogram of one replica, read from its Prometheus text (/metrics):
 * `lockstep_client_request_duration_seconds_bucket{...,le="0.005"} 12`, summed over request kinds.
 * Cumulative counts per upper bound, as Prometheus writes them.
 */
export interface LatencyBuckets {
  /** Upper bounds in seconds, increasing; the last is Infinity. */
  readonly bounds: readonly number[];
  /** Cumulative count of requests at or under each bound. */
  readonly cumulative: readonly number[];
}

const bucketLine =
  /^lockstep_client_request_duration_seconds_bucket\{([^}]*)\}\s+([0-9.eE+-]+|NaN|\+Inf)\s*$/;

/** Parses the buckets out of /metrics text; undefined when there are none. */
export function parseLatencyBuckets(text: string): LatencyBuckets | undefined {
  const byBound = new Map<number, number>();
  for (const line of text.split("\n")) {
    const match = bucketLine.exec(line);
    if (!match) continue;
    const le = /(?:^|,)le="([^"]*)"/.exec(match[1]!)?.[1];
    if (le === undefined) continue;
    const bound = le === "+Inf" ? Number.POSITIVE_INFINITY : Number(le);
    const count = Number(match[2]);
    if (Number.isNaN(bound) || !Number.isFinite(count)) continue;
    byBound.set(bound, (byBound.get(bound) ?? 0) + count);
  }
  if (byBound.size === 0) return undefined;
  const bounds = [...byBound.keys()].sort((a, b) => a - b);
  return { bounds, cumulative: bounds.map((b) => byBound.get(b) ?? 0) };
}

/**
 * Per-bound counts of the requests between two readings of the same replica's histogram
 * (non-cumulative), or undefined when they cannot be compared: other bounds, or a counter that
 * went down (the replica restarted and its counts started again from zero).
 */
export function bucketDelta(
  before: LatencyBuckets,
  after: LatencyBuckets,
): readonly number[] | undefined {
  if (before.bounds.length !== after.bounds.length) return undefined;
  if (before.bounds.some((b, i) => b !== after.bounds[i])) return undefined;
  const out: number[] = [];
  let previous = 0;
  for (let i = 0; i < after.bounds.length; i++) {
    const grown = after.cumulative[i]! - before.cumulative[i]!;
    if (grown < 0) return undefined;
    out.push(grown - previous);
    previous = grown;
  }
  return out.some((c) => c < 0) ? undefined : out;
}

/**
 * The `q` quantile (0..1) of per-bound counts, in seconds, estimated as Prometheus'
 * histogram_quantile does: linear interpolation within the bucket it falls in (from the bound
 * below, 0 for the first); the largest finite bound when it falls in +Inf. Undefined for no
 * requests.
 */
export function quantileOf(
  bounds: readonly number[],
  counts: readonly number[],
  q: number,
): number | undefined {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return undefined;
  const rank = q * total;
  let below = 0;
  for (let i = 0; i < counts.length; i++) {
    const count = counts[i]!;
    if (count > 0 && below + count >= rank) {
      const upper = bounds[i]!;
      if (!Number.isFinite(upper)) return bounds.filter(Number.isFinite).at(-1);
      const lower = i === 0 ? 0 : bounds[i - 1]!;
      return lower + ((upper - lower) * Math.max(0, rank - below)) / count;
    }
    below += count;
  }
  return undefined;
}
