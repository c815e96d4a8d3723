import type { BackoffOptions } from "./backoff.js";
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
  /** Mutual TLS under the HMAC layer. */
  readonly tls?: TlsOptions;
  /** Called with exceptions thrown by handlers (each is also counted in handlerErrors). */
  readonly onError?: (error: unknown) => void;
}

export interface ResolvedNetOptions {
  readonly maxFrameBytes: number;
  readonly queue: QueueLimits;
  readonly backoff: BackoffOptions;
  readonly handshakeTimeoutMs: number;
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
  return {
    maxFrameBytes,
    queue,
    backoff: options.backoff ?? {},
    handshakeTimeoutMs,
    tls: options.tls,
    onError: options.onError,
  };
}
