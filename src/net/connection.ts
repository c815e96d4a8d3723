import type { Socket } from "node:net";
import type { Principal } from "../core/crypto.js";
import type { ChannelEvent, SecureChannel } from "./channel.js";
import type { CounterName, NetCounters } from "./counters.js";
import type { SendQueue } from "./send-queue.js";
import { batchedMessageOverhead, dataFrameOverhead } from "./session.js";

/**
 * One socket carrying one SecureChannel. It feeds received bytes to the channel, writes what
 * the channel asks, closes on the channel's first refusal, enforces the handshake deadline and
 * writes queued messages with backpressure: it stops at socket.write() === false and resumes on
 * 'drain', leaving the rest in its SendQueue (which drops the oldest when full). Nothing thrown
 * by a hook escapes a socket event.
 *
 * With liveness on (peer links; docs/net.md, "Liveness") it also pings when it has sent nothing
 * for an interval, and closes itself when nothing arrived for the link timeout while it was
 * sending, or a write stayed blocked that long: TCP alone would sit in retransmission backoff
 * for tens of seconds after a partition heals.
 */
export interface LivenessOptions {
  /** A connection that sent nothing for this long sends a ping (and checks its peer as often). */
  readonly intervalMs: number;
  /** Nothing received for this long while sending (or a write blocked this long) ⇒ closed. */
  readonly timeoutMs: number;
}

/** What a connection knows about its link's recent traffic (milliseconds, performance.now()). */
export interface LinkActivity {
  readonly lastReceivedAt: number | undefined;
  readonly lastSentAt: number | undefined;
}
export interface ConnectionHooks {
  onEstablished(connection: Connection): void;
  onMessage(connection: Connection, message: Uint8Array): void;
  onClose(connection: Connection, reason: string): void;
}

export interface ConnectionOptions {
  readonly socket: Socket;
  readonly channel: SecureChannel;
  readonly counters: NetCounters;
  readonly handshakeTimeoutMs: number;
  readonly hooks: ConnectionHooks;
  /** Reports an exception a hook threw (it is counted in handlerErrors). */
  readonly onError?: (error: unknown) => void;
  /** Where outgoing messages wait; may be attached later (after the peer is known). */
  queue?: SendQueue;
  /** Messages are packed into frames of up to this many bytes (default 64 KiB). */
  readonly batchBytes?: number;
}

export class Connection {
  private readonly socket: Socket;
  private readonly channel: SecureChannel;
  private readonly counters: NetCounters;
  private readonly hooks: ConnectionHooks;
  private readonly onError: ((error: unknown) => void) | undefined;
  private queue: SendQueue | undefined;
  private handshakeTimer: NodeJS.Timeout | undefined;
  private waitingForDrain = false;
  private flushScheduled = false;
  private readonly batchBytes: number;
  private closing = false;
  private closedReason: string | undefined;
  private closedCounter: CounterName | undefined;
  private lastReceivedAt: number | undefined;
  private lastSentAt: number | undefined;
  private blockedSince: number | undefined;
  private livenessTimer: NodeJS.Timeout | undefined;

  constructor(options: ConnectionOptions) {
    this.socket = options.socket;
    this.channel = options.channel;
    this.counters = options.counters;
    this.hooks = options.hooks;
    this.onError = options.onError;
    this.queue = options.queue;
    this.batchBytes = options.batchBytes ?? 64 * 1024;
    const socket = this.socket;
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 15_000);
    socket.on("data", (chunk: Buffer) => {
      this.lastReceivedAt = performance.now();
      this.guard(() => this.handle(this.channel.receive(chunk)));
    });
    socket.on("end", () =>
      this.guard(() => {
        this.handle(this.channel.end());
        this.close("peer ended the stream");
      }),
    );
    socket.on("drain", () => {
      this.waitingForDrain = false;
      this.blockedSince = undefined;
      this.guard(() => this.flush());
    });
    socket.on("error", (error) => {
      if (!this.closedReason) this.closedReason = error.message;
    });
    socket.on("close", () => this.onSocketClose());
    this.handshakeTimer = setTimeout(() => {
      this.guard(() => this.handle(this.channel.fail("unauthenticated", "handshake timed out")));
    }, options.handshakeTimeoutMs);
    this.handshakeTimer.unref();
    this.guard(() => this.handle(this.channel.start()));
  }

  /** The authenticated peer, once the handshake is done. */
  get peer(): Principal | undefined {
    return this.channel.peer;
  }

  get established(): boolean {
    return this.channel.established && !this.closing;
  }

  get isClosed(): boolean {
    return this.closing;
  }

  /** Why it closed (first reason seen), once closed. */
  get reason(): string | undefined {
    return this.closedReason;
  }

  /** When bytes last arrived and when a frame was last written (undefined: never). */
  get activity(): LinkActivity {
    return { lastReceivedAt: this.lastReceivedAt, lastSentAt: this.lastSentAt };
  }

  /**
   * Starts the liveness check (idempotent; call once established). Every `intervalMs` it pings
   * if it wrote nothing since the last check, and closes the connection if nothing arrived for
   * `timeoutMs` although it wrote since then, or a write has been blocked for `timeoutMs`.
   * A check that runs late (this process was paused or starved) judges nothing: bytes that
   * arrived meanwhile may still wait in the socket, and the next on-time check sees them.
   */
  startLiveness(options: LivenessOptions): void {
    if (this.livenessTimer || this.closing) return;
    const start = performance.now();
    this.lastReceivedAt ??= start;
    let lastCheck = start;
    let sentAtLastCheck = this.lastSentAt;
    this.livenessTimer = setInterval(() => {
      this.guard(() => {
        const now = performance.now();
        const late = now - lastCheck > 2 * options.intervalMs;
        lastCheck = now;
        if (late || !this.established) return;
        if (this.lastSentAt === sentAtLastCheck && !this.waitingForDrain) this.ping(now);
        sentAtLastCheck = this.lastSentAt;
        const silent = now - (this.lastReceivedAt ?? start);
        if (silent > options.timeoutMs && (this.lastSentAt ?? 0) > (this.lastReceivedAt ?? 0)) {
          this.counters.linkTimeouts++;
          this.close(`no frame from the peer for ${Math.round(silent)} ms`);
          return;
        }
        if (this.blockedSince !== undefined && now - this.blockedSince > options.timeoutMs) {
          this.counters.linkTimeouts++;
          this.close(`writes blocked for ${Math.round(now - this.blockedSince)} ms`);
        }
      });
    }, options.intervalMs);
    this.livenessTimer.unref();
  }

  private ping(now: number): void {
    this.counters.pingsOut++;
    const frame = this.channel.sealPing();
    this.counters.bytesOut += frame.length;
    this.lastSentAt = now;
    if (!this.socket.write(frame)) this.markBlocked(now);
  }

  private markBlocked(now: number): void {
    this.waitingForDrain = true;
    this.blockedSince ??= now;
  }

  attachQueue(queue: SendQueue): void {
    this.queue = queue;
    this.flush();
  }

  /**
   * Flushes at the end of the current turn of the event loop (a microtask), so messages sent
   * together (one protocol step's outputs) share a frame and its MAC.
   */
  flushSoon(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(() => {
      this.flushScheduled = false;
      this.guard(() => this.flush());
    });
  }

  /**
   * Writes queued messages until the queue is empty or the socket asks to wait, packing
   * consecutive messages into frames of up to `batchBytes` (a larger message goes alone).
   */
  flush(): void {
    const queue = this.queue;
    if (!queue || this.waitingForDrain || !this.established) return;
    queue.expire();
    if (queue.length === 0) return;
    const socket = this.socket;
    const limit = Math.min(this.batchBytes, this.channel.frameLimit - dataFrameOverhead);
    socket.cork();
    try {
      while (!this.waitingForDrain) {
        const first = queue.shift();
        if (!first) break;
        const batch = [first];
        let bytes = first.length;
        for (let next = queue.peek(); next; next = queue.peek()) {
          if (bytes + batchedMessageOverhead + next.length > limit || batch.length >= 4096) break;
          batch.push(queue.shift()!);
          bytes += batchedMessageOverhead + next.length;
        }
        const frame = this.channel.sealBatch(batch);
        this.counters.framesOut++;
        this.counters.messagesOut += batch.length;
        this.counters.bytesOut += frame.length;
        this.lastSentAt = performance.now();
        if (!socket.write(frame)) this.markBlocked(this.lastSentAt);
      }
    } finally {
      socket.uncork();
    }
  }

  /**
   * Closes the connection (idempotent); queued messages stay in the queue for its owner.
   * `flush`: end the stream after what was written (a refusal the peer should read) instead of
   * dropping it; the socket is destroyed a second later at the latest.
   */
  close(reason = "closed locally", flush = false): void {
    if (this.closing) return;
    this.closing = true;
    if (!this.closedReason) this.closedReason = reason;
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    if (this.livenessTimer) clearInterval(this.livenessTimer);
    if (!flush) {
      this.socket.destroy();
      return;
    }
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1_000).unref();
  }

  /** The counter of the refusal that closed this connection, if one did. */
  get refusal(): CounterName | undefined {
    return this.closedCounter;
  }

  private handle(events: readonly ChannelEvent[]): void {
    let wroteNow = false;
    for (const event of events) {
      if (this.closing) return;
      switch (event.type) {
        case "send":
          this.counters.bytesOut += event.bytes.length;
          this.socket.write(event.bytes);
          wroteNow = true;
          break;
        case "established":
          if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
          this.handshakeTimer = undefined;
          this.callHook(() => this.hooks.onEstablished(this));
          this.flush();
          break;
        case "message":
          this.callHook(() => this.hooks.onMessage(this, event.message));
          break;
        case "ping":
          this.counters.pingsIn++;
          break;
        case "closed":
          this.closedCounter = event.counter;
          this.close(`${event.counter}: ${event.detail}`, wroteNow);
          return;
      }
    }
  }

  private callHook(hook: () => void): void {
    try {
      hook();
    } catch (error) {
      this.counters.handlerErrors++;
      try {
        this.onError?.(error);
      } catch {
        // an error reporter that throws is ignored
      }
    }
  }

  /** Last line of defence: nothing thrown inside a socket event may reach the event loop. */
  private guard(work: () => void): void {
    try {
      work();
    } catch (error) {
      this.counters.handlerErrors++;
      this.close(`internal error: ${(error as Error)?.message ?? String(error)}`);
    }
  }

  private onSocketClose(): void {
    this.closing = true;
    if (this.livenessTimer) clearInterval(this.livenessTimer);
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = undefined;
    const reason = this.closedReason ?? "connection closed";
    this.callHook(() => this.hooks.onClose(this, reason));
  }
}
