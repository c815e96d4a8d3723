import type { Principal } from "../core/crypto.js";
import type { CounterName, NetCounters } from "./counters.js";
import { defaultMaxFrameBytes, type Frame, FrameDecoder } from "./frame.js";
import {
  DialerHandshake,
  type HandshakeFailure,
  maxHandshakeFrameBytes,
  ResponderHandshake,
  type SessionSecret,
} from "./handshake.js";
import type { ParsedPrincipal } from "./principal.js";
import { Direction, FrameOpener, FrameSealer } from "./session.js";
import type { HandshakeKeys } from "./session-keys.js";

/**
 * One end of an authenticated connection, without I/O: bytes in, events out. It runs the
 * handshake, then opens every data frame (MAC, sequence number) and seals outgoing messages.
 * It counts every refusal in `counters` and closes on the first one that breaks framing or
 * authentication; it never throws on input.
 */
export type ChannelEvent =
  | { readonly type: "send"; readonly bytes: Uint8Array }
  | { readonly type: "established"; readonly peer: Principal }
  | { readonly type: "message"; readonly message: Uint8Array }
  /** A liveness ping (a data frame carrying one empty message): proof the peer is there. */
  | { readonly type: "ping" }
  | { readonly type: "closed"; readonly counter: CounterName; readonly detail: string };

export interface ChannelOptions {
  readonly keys: HandshakeKeys;
  readonly counters: NetCounters;
  /** Largest frame accepted once authenticated (default 16 MiB). */
  readonly maxFrameBytes?: number;
  /** This side's cluster id (docs/net.md, "Cluster id"); none: no check. */
  readonly clusterId?: string | undefined;
}

const emptyMessage = new Uint8Array(0);

type State =
  | { readonly name: "dialing"; readonly handshake: DialerHandshake }
  | {
      readonly name: "accepting";
      readonly handshake: ResponderHandshake;
      readonly helloSeen: boolean;
    }
  | {
      readonly name: "open";
      readonly peer: Principal;
      readonly sealer: FrameSealer;
      readonly opener: FrameOpener;
    }
  | { readonly name: "closed" };

export class SecureChannel {
  private state: State;
  private readonly decoder = new FrameDecoder(maxHandshakeFrameBytes);
  private readonly counters: NetCounters;
  private readonly maxFrameBytes: number;
  private authenticatedPeer: Principal | undefined;

  private constructor(options: ChannelOptions, state: State) {
    this.counters = options.counters;
    this.maxFrameBytes = options.maxFrameBytes ?? defaultMaxFrameBytes;
    this.state = state;
  }

  /** The dialing end; `start()` yields the HELLO to send. Throws if no key is shared with `target`. */
  static dial(options: ChannelOptions, target: Principal, nonce?: Uint8Array): SecureChannel {
    return new SecureChannel(options, {
      name: "dialing",
      handshake: new DialerHandshake(options.keys, target, nonce, options.clusterId),
    });
  }

  /** The accepting end; `admit` filters which principals may connect. */
  static accept(
    options: ChannelOptions,
    admit: (peer: ParsedPrincipal) => boolean,
    nonce?: Uint8Array,
  ): SecureChannel {
    return new SecureChannel(options, {
      name: "accepting",
      handshake: new ResponderHandshake(options.keys, admit, nonce, options.clusterId),
      helloSeen: false,
    });
  }

  /**
   * A channel already past its handshake, from a session secret (tests and fuzzers use it to
   * make many fresh receivers cheaply). Both ends of a connection share `session.key`; `role`
   * picks the directions.
   */
  static fromSession(options: ChannelOptions, session: SessionSecret): SecureChannel {
    const channel = new SecureChannel(options, { name: "closed" });
    channel.open(session, []);
    return channel;
  }

  start(): ChannelEvent[] {
    return this.state.name === "dialing"
      ? [{ type: "send", bytes: this.state.handshake.hello }]
      : [];
  }

  get established(): boolean {
    return this.state.name === "open";
  }

  get closed(): boolean {
    return this.state.name === "closed";
  }

  /** The authenticated peer, once established (and still after the channel closes). */
  get peer(): Principal | undefined {
    return this.authenticatedPeer;
  }

  /** Seals one message into a data frame. Only valid when established. */
  seal(message: Uint8Array): Uint8Array {
    return this.sealBatch([message]);
  }

  /** Seals messages (at least one) into one data frame. Only valid when established. */
  sealBatch(messages: readonly Uint8Array[]): Uint8Array {
    if (this.state.name !== "open") throw new Error("channel is not established");
    return this.state.sealer.sealBatch(messages);
  }

  /**
   * Seals a liveness ping: a data frame carrying exactly one empty message. No protocol
   * message is empty (MessagePack encodes every value in at least one byte), so the receiver
   * tells it apart without a new frame kind; it is authenticated and sequenced like any data
   * frame. (An empty message inside a larger batch is still delivered as a message.)
   */
  sealPing(): Uint8Array {
    return this.sealBatch([emptyMessage]);
  }

  /** The largest frame this channel accepts once established. */
  get frameLimit(): number {
    return this.maxFrameBytes;
  }

  receive(chunk: Uint8Array): ChannelEvent[] {
    const events: ChannelEvent[] = [];
    if (this.closed) return events;
    this.counters.bytesIn += chunk.length;
    this.decoder.push(chunk);
    for (let event = this.decoder.next(); event; event = this.decoder.next()) {
      if (event.type === "error") {
        events.push(this.close(event.reason, event.detail));
        break;
      }
      this.onFrame(event.frame, events);
      if (this.closed) break;
    }
    return events;
  }

  /** The byte stream ended; a partial frame is counted as malformed. */
  end(): ChannelEvent[] {
    if (this.state.name === "closed") return [];
    const error = this.decoder.end();
    if (error) return [this.close(error.reason, error.detail)];
    this.state = { name: "closed" };
    return [];
  }

  /** Closes from outside (handshake timeout and the like), counting under `counter`. */
  fail(counter: CounterName, detail: string): ChannelEvent[] {
    return this.state.name === "closed" ? [] : [this.close(counter, detail)];
  }

  private close(counter: CounterName, detail: string): ChannelEvent {
    this.counters[counter]++;
    this.state = { name: "closed" };
    return { type: "closed", counter, detail };
  }

  private failed(failure: HandshakeFailure): ChannelEvent {
    return this.close(failure.counter, failure.detail);
  }

  private onFrame(frame: Frame, events: ChannelEvent[]): void {
    const state = this.state;
    switch (state.name) {
      case "dialing": {
        const result = state.handshake.onChallenge(frame);
        if (!result.ok) {
          events.push(this.failed(result));
          return;
        }
        events.push({ type: "send", bytes: result.confirm });
        this.open(result.session, events);
        return;
      }
      case "accepting": {
        if (!state.helloSeen) {
          const result = state.handshake.onHello(frame);
          if (!result.ok) {
            if (result.reply) events.push({ type: "send", bytes: result.reply });
            events.push(this.failed(result));
            return;
          }
          this.state = { ...state, helloSeen: true };
          events.push({ type: "send", bytes: result.challenge });
          return;
        }
        const result = state.handshake.onConfirm(frame);
        if (!result.ok) {
          events.push(this.failed(result));
          return;
        }
        this.open(result.session, events);
        return;
      }
      case "open": {
        const result = state.opener.open(frame);
        if (!result.ok) {
          events.push(this.close(result.counter, result.detail));
          return;
        }
        this.counters.framesIn++;
        this.counters.messagesIn += result.messages.length;
        if (result.messages.length === 1 && result.messages[0]!.length === 0) {
          events.push({ type: "ping" });
          return;
        }
        for (const message of result.messages) events.push({ type: "message", message });
        return;
      }
      case "closed":
        return;
    }
  }

  private open(session: SessionSecret, events: ChannelEvent[]): void {
    const outgoing =
      session.role === "dialer" ? Direction.dialerToResponder : Direction.responderToDialer;
    const incoming =
      session.role === "dialer" ? Direction.responderToDialer : Direction.dialerToResponder;
    this.authenticatedPeer = session.peer;
    this.state = {
      name: "open",
      peer: session.peer,
      sealer: new FrameSealer(session.key, outgoing),
      opener: new FrameOpener(session.key, incoming),
    };
    this.decoder.setMaxFrameBytes(this.maxFrameBytes);
    events.push({ type: "established", peer: session.peer });
  }
}
