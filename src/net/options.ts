import type { BackoffOptions } from "./backoff.js";
import type { LivenessOptions } from "./connection.js";
import { defaultMaxFrameBytes } from "./frame.js";
import { defaultQueueLimits, type QueueLimits } from "./send-queue.js";
import type { TlsOptions } from "./tls.js";

/** Settings both transports share. Every limit has a default; see docs/net.md. */
export interface NetOptions {
  /** Largest frame accepted or sent, header and tag included (default 16 MiB). */
  readonly maxFrameBytes?: number;
  /** Per-connection (client) or per-replica (peer) send queue bounds. */
  readonly queue?: Partial<QueueLimits>;
  /** Reconnect delays (default 50 ms doubling to 5 s, with jitter). */
  readonly backoff?: BackoffOptions;
  /** A connection that has not finished its handshake by then is closed (default 5 s). */
  readonly handshakeTimeoutMs?: number;
  /**
   * Liveness of peer links (docs/net.md, "Liveness"): ping after `intervalMs` without sending
   * (default 100), drop the connection after `timeoutIntervals` intervals without receiving
   * while sending (default 10, so 1 s), and give a dial `connectTimeoutMs` to reach the peer's
   * TCP stack (default 500). False: no pings, no timeouts (TCP keepalive only).
   */
  readonly liveness?: Partial<LivenessSettings> | false;
  /** Mutual TLS under the HMAC layer. */
  readonly tls?: TlsOptions;
  /** Called with exceptions thrown by handlers (each is also counted in handlerErrors). */
  readonly onError?: (error: unknown) => void;
}

export interface LivenessSettings {
  readonly intervalMs: number;
  readonly timeoutIntervals: number;
  readonly connectTimeoutMs: number;
}

export const defaultLiveness: LivenessSettings = {
  intervalMs: 100,
  timeoutIntervals: 10,
  connectTimeoutMs: 500,
};

/** The resolved liveness of peer links, or undefined when turned off. */
export interface ResolvedLiveness extends LivenessOptions {
  readonly connectTimeoutMs: number;
}

export interface ResolvedNetOptions {
  readonly maxFrameBytes: number;
  readonly queue: QueueLimits;
  readonly backoff: BackoffOptions;
  readonly handshakeTimeoutMs: number;
  readonly liveness: ResolvedLiveness | undefined;
  readonly tls: TlsOptions | undefined;
  readonly onError: ((error: unknown) => void) | undefined;
}

export function resolveNetOptions(options: NetOptions): ResolvedNetOptions {
  const maxFrameBytes = options.maxFrameBytes ?? defaultMaxFrameBytes;
  if (!Number.isInteger(maxFrameBytes) || maxFrameBytes < 1024 || maxFrameBytes > 2 ** 31) {
    throw new RangeError(
      `maxFrameBytes must be an integer from 1024 to 2^31, got ${maxFrameBytes}`,
    );
  }
  const queue = { ...defaultQueueLimits, ...options.queue };
  if (!(queue.maxBytes >= 1) || !(queue.maxMessages >= 1)) {
    throw new RangeError("queue limits must be at least 1");
  }
  const handshakeTimeoutMs = options.handshakeTimeoutMs ?? 5_000;
  if (!(handshakeTimeoutMs > 0)) throw new RangeError("handshakeTimeoutMs must be positive");
  if (queue.maxAgeMs !== undefined && !(queue.maxAgeMs > 0)) {
    throw new RangeError("queue.maxAgeMs must be positive");
  }
  return {
    maxFrameBytes,
    queue,
    backoff: options.backoff ?? {},
    handshakeTimeoutMs,
    liveness: resolveLiveness(options.liveness),
    tls: options.tls,
    onError: options.onError,
  };
}

function resolveLiveness(
  option: Partial<LivenessSettings> | false | undefined,
): ResolvedLiveness | undefined {
  if (option === false) return undefined;
  const l = { ...defaultLiveness, ...option };
  if (!(l.intervalMs >= 1) || !Number.isInteger(l.timeoutIntervals) || l.timeoutIntervals < 2) {
    throw new RangeError("liveness needs intervalMs ≥ 1 and an integer timeoutIntervals ≥ 2");
  }
  if (!(l.connectTimeoutMs >= 1))
    throw new RangeError("liveness.connectTimeoutMs must be positive");
  return {
    intervalMs: l.intervalMs,
    timeoutMs: l.intervalMs * l.timeoutIntervals,
    connectTimeoutMs: l.connectTimeoutMs,
  };
}
