/**
 * The load generator behind `lockstep bench` and `bench/etcd.sh`: C clients, each with one put
 * outstanding at a time (a closed loop), for a fixed time. The same driver runs against lockstep
 * and against etcd, so both see the same keys, values and concurrency.
 */

import { Samples } from "./samples.js";

/** One client of the system under test: a connection that can put and be closed. */
export interface PutClient {
  put(key: string, value: string): Promise<void>;
  close(): Promise<void>;
}

export interface PutLoadOptions {
  readonly clients: number;
  /** Measured time, after the warm-up. */
  readonly durationMs: number;
  /**
   * Load run before the measurement starts and not counted (default 0): connections fill their
   * windows, caches and the JIT warm up, batches reach their steady size.
   */
  readonly warmupMs?: number;
  /** Called once when the measured window starts (after the warm-up), e.g. to read counters. */
  readonly onMeasureStart?: () => void;
  /** Bytes per key (keys are ASCII, so characters = bytes). */
  readonly keySize: number;
  /** Bytes per value. */
  readonly valueSize: number;
  /** Distinct keys the clients write (uniformly at random). */
  readonly keySpace: number;
  /** Opens client `index` (0-based); all are opened before the clock starts. */
  readonly open: (index: number) => Promise<PutClient>;
  /** Called about every `progressEveryMs` while the load runs (elapsedMs < 0 in the warm-up). */
  readonly onProgress?: (progress: LoadProgress) => void;
  readonly progressEveryMs?: number;
}

export interface LoadProgress {
  readonly elapsedMs: number;
  readonly ops: number;
  readonly errors: number;
}

export interface LatencyPercentiles {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

export interface PutLoadResult {
  readonly clients: number;
  readonly warmupSeconds: number;
  /** Puts acknowledged in the measured window. */
  readonly ops: number;
  /** Puts that failed in the measured window (by error message's first word, e.g. "timeout"). */
  readonly errors: number;
  readonly errorKinds: { readonly [kind: string]: number };
  readonly elapsedSeconds: number;
  readonly opsPerSecond: number;
  /** Latency of acknowledged puts in milliseconds; null when none completed. */
  readonly latencyMs: LatencyPercentiles | null;
}

/** Nearest-rank percentiles of latencies in milliseconds (the array is sorted in place). */
export function percentiles(latencies: Float64Array): LatencyPercentiles | null {
  if (latencies.length === 0) return null;
  latencies.sort();
  const at = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.ceil(q * latencies.length) - 1)]!;
  let sum = 0;
  for (const v of latencies) sum += v;
  return {
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    max: latencies[latencies.length - 1]!,
    mean: sum / latencies.length,
  };
}

/** A key of exactly `size` characters for key number `n` ("k000…0042"). */
export function benchKey(n: number, size: number): string {
  const digits = String(n);
  if (size <= digits.length) return digits.slice(-size);
  return `k${digits.padStart(size - 1, "0")}`;
}

/** A value of exactly `size` ASCII characters that differs per client and per put. */
export function benchValue(client: number, n: number, size: number): string {
  const stamp = `${client}.${n}.`;
  if (size <= stamp.length) return stamp.slice(0, size);
  return stamp + "x".repeat(size - stamp.length);
}

/** Runs the load; clients that fail to open make the whole run fail (nothing was measured). */
export async function runPutLoad(options: PutLoadOptions): Promise<PutLoadResult> {
  if (!Number.isInteger(options.clients) || options.clients < 1)
    throw new RangeError(`clients must be a positive integer, got ${options.clients}`);
  if (options.keySpace < 1) throw new RangeError("keySpace must be positive");
  const warmupMs = options.warmupMs ?? 0;
  if (!(warmupMs >= 0)) throw new RangeError(`warmupMs must be at least 0, got ${warmupMs}`);
  const clients = await Promise.all(
    Array.from({ length: options.clients }, (_, i) => options.open(i)),
  );
  const latencies = new Samples();
  const errorKinds: Record<string, number> = {};
  let ops = 0;
  let errors = 0;
  // A put counts when it completes inside the measured window [started, deadline).
  const started = performance.now() + warmupMs;
  const deadline = started + options.durationMs;
  if (warmupMs === 0) options.onMeasureStart?.();
  const warmupTimer =
    warmupMs === 0 ? undefined : setTimeout(() => options.onMeasureStart?.(), warmupMs);
  // xorshift per client: key choice must not depend on Math.random's shared state across runs
  const loop = async (index: number, client: PutClient): Promise<void> => {
    let x = (index + 1) * 0x9e3779b1;
    let n = 0;
    while (performance.now() < deadline) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      const key = benchKey((x >>> 0) % options.keySpace, options.keySize);
      const value = benchValue(index, n++, options.valueSize);
      const t0 = performance.now();
      try {
        await client.put(key, value);
        const done = performance.now();
        if (done < started) continue;
        latencies.push(done - t0);
        ops++;
      } catch (error) {
        if (performance.now() < started) continue;
        errors++;
        const kind = String((error as { code?: unknown }).code ?? (error as Error).message ?? error)
          .split(/[\s:]/)[0]!
          .slice(0, 40);
        errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
      }
    }
  };
  let progressTimer: NodeJS.Timeout | undefined;
  if (options.onProgress) {
    const report = options.onProgress;
    progressTimer = setInterval(
      () => report({ elapsedMs: performance.now() - started, ops, errors }),
      options.progressEveryMs ?? 250,
    );
  }
  try {
    await Promise.all(clients.map((client, i) => loop(i, client)));
  } finally {
    if (progressTimer) clearInterval(progressTimer);
    if (warmupTimer) clearTimeout(warmupTimer);
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  }
  const elapsedSeconds = (performance.now() - started) / 1000;
  return {
    clients: options.clients,
    warmupSeconds: warmupMs / 1000,
    ops,
    errors,
    errorKinds,
    elapsedSeconds,
    opsPerSecond: ops / elapsedSeconds,
    latencyMs: percentiles(latencies.copy()),
  };
}

/**
 * Spreads clients over `connections` shared connections, the way etcd's benchmark tool spreads
 * --clients over --conns: client i uses connection i mod `connections`, and each connection is
 * opened once and closed when its last client closes.
 */
export function sharedConnections(
  connections: number,
  openConnection: (index: number) => Promise<PutClient>,
): (clientIndex: number) => Promise<PutClient> {
  const opened = new Map<number, { client: Promise<PutClient>; users: number }>();
  return async (clientIndex) => {
    const index = clientIndex % connections;
    let entry = opened.get(index);
    if (entry === undefined) {
      entry = { client: openConnection(index), users: 0 };
      opened.set(index, entry);
    }
    entry.users++;
    const shared = entry;
    const connection = await shared.client;
    let closed = false;
    return {
      put: (key, value) => connection.put(key, value),
      close: async () => {
        if (closed) return;
        closed = true;
        if (--shared.users === 0) await connection.close();
      },
    };
  };
}
