import type { Principal } from "../core/crypto.js";
import { Backoff, type BackoffOptions } from "./backoff.js";
import { SecureChannel } from "./channel.js";
import { Connection, type LinkActivity } from "./connection.js";
import type { NetCounters } from "./counters.js";
import type { ResolvedLiveness } from "./options.js";
import type { SendQueue } from "./send-queue.js";
import type { HandshakeKeys } from "./session-keys.js";
import { dialSocket, type TlsOptions } from "./tls.js";

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/**
 * A link this node keeps dialed to one replica: once started it connects, and after every
 * failure or lost connection waits a jittered, exponentially growing delay (reset by a
 * successful handshake) and dials again, until closed. Messages wait in the link's queue while
 * it is down and are written when a connection is up.
 */
export interface DialedLinkOptions {
  readonly target: Principal;
  /** Looked up at each dial, so a changed address takes effect on the next attempt. */
  readonly address: () => HostPort | undefined;
  readonly keys: HandshakeKeys;
  readonly counters: NetCounters;
  readonly queue: SendQueue;
  readonly tls: TlsOptions | undefined;
  readonly maxFrameBytes: number;
  readonly handshakeTimeoutMs: number;
  /** Pings, link timeout and connect timeout (docs/net.md, "Liveness"); none when undefined. */
  readonly liveness?: ResolvedLiveness | undefined;
  readonly backoff?: BackoffOptions;
  /** This side's cluster id, sent in HELLO (docs/net.md, "Cluster id"). */
  readonly clusterId?: string | undefined;
  /** Called when the peer refused us as another cluster's node (with the reason). */
  readonly onWrongCluster?: (reason: string) => void;
  /** The replica refused this client's key as rotated out (handshake.ts, RETIRED). */
  readonly onKeyRetired?: (reason: string) => void;
  readonly onMessage: (message: Uint8Array) => void;
  readonly onError?: (error: unknown) => void;
}

export class DialedLink {
  private connection: Connection | undefined;
  private timer: NodeJS.Timeout | undefined;
  private started = false;
  private stopped = false;
  private attempts = 0;
  private redials = 0;
  private readonly backoff: Backoff;

  constructor(private readonly options: DialedLinkOptions) {
    this.backoff = new Backoff(options.backoff);
  }

  get queue(): SendQueue {
    return this.options.queue;
  }

  /** Whether an authenticated connection is up. */
  get connected(): boolean {
    return this.connection?.established ?? false;
  }

  /** Traffic of the current connection (undefined when none is up). */
  get activity(): LinkActivity | undefined {
    return this.connected ? this.connection?.activity : undefined;
  }

  /** Whether a dial is under way (socket opened, handshake not finished). */
  get connecting(): boolean {
    return this.connection !== undefined && !this.connection.established;
  }

  /** Redials so far (after failures or lost connections). */
  get reconnects(): number {
    return this.redials;
  }

  /** Starts dialing (idempotent). */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.dial();
  }

  /** Writes queued messages soon if connected; starts dialing if not started yet. */
  flush(): void {
    this.start();
    this.connection?.flushSoon();
  }

  /** Stops dialing and closes the connection; queued messages are left for the owner. */
  close(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.connection?.close("link closed");
    this.connection = undefined;
  }

  private dial(): void {
    if (this.stopped || this.connection || this.timer) return;
    if (this.attempts++ > 0) {
      this.options.counters.reconnects++;
      this.redials++;
    }
    const address = this.options.address();
    if (!address) {
      this.scheduleRedial();
      return;
    }
    const o = this.options;
    let channel: SecureChannel;
    try {
      channel = SecureChannel.dial(
        {
          keys: o.keys,
          counters: o.counters,
          maxFrameBytes: o.maxFrameBytes,
          clusterId: o.clusterId,
        },
        o.target,
      );
    } catch (error) {
      // No key for the target: nothing will change that but new keys, so retry slowly.
      o.onError?.(error);
      this.scheduleRedial();
      return;
    }
    const socket = dialSocket(o.tls, address.host, address.port, o.counters);
    // A SYN lost to a partition is retried by TCP only after 1 s, 3 s, 7 s...: give up sooner
    // and dial again, so a healed link is back within about connectTimeoutMs + the backoff.
    const liveness = o.liveness;
    let connectTimer: NodeJS.Timeout | undefined;
    if (liveness) {
      connectTimer = setTimeout(() => {
        o.counters.linkTimeouts++;
        connection.close(`no TCP connection within ${liveness.connectTimeoutMs} ms`);
      }, liveness.connectTimeoutMs);
      connectTimer.unref();
      socket.once("connect", () => clearTimeout(connectTimer));
      socket.once("close", () => clearTimeout(connectTimer));
    }
    const connection = new Connection({
      socket,
      channel,
      counters: o.counters,
      handshakeTimeoutMs: o.handshakeTimeoutMs,
      queue: o.queue,
      ...(o.onError ? { onError: o.onError } : {}),
      hooks: {
        onEstablished: (c) => {
          this.backoff.reset();
          if (liveness) c.startLiveness(liveness);
        },
        onMessage: (_connection, message) => o.onMessage(message),
        onClose: (connection, reason) => {
          if (this.connection === connection) this.connection = undefined;
          if (connection.refusal === "wrongCluster") o.onWrongCluster?.(reason);
          if (connection.refusal === "keyRetired") o.onKeyRetired?.(reason);
          this.scheduleRedial();
        },
      },
    });
    this.connection = connection;
  }

  private scheduleRedial(): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.dial();
    }, this.backoff.next());
  }
}
