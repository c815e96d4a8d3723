import { LeaderClient } from "../../core/leader-client.js";
import type { ClientCore, ClientInput, ClientOptions, ClientOutput } from "../../core/protocol.js";
import type { Epoch, PrimaryBackupWire } from "./messages.js";

type In = ClientInput<PrimaryBackupWire>;
type Out = ClientOutput<PrimaryBackupWire>;

/**
 * The primary/backup client: the shared leader client (sessions, retries, redirects) plus
 * epochs. It remembers the highest epoch any reply of its cluster carried, sends it with every
 * request (a primary from an older epoch then knows it is deposed and refuses), and refuses,
 * and counts, a reply from an older epoch than that: its result is dropped and taken as "not
 * the primary", so the request stays pending and is retried (same session and sequence
 * number, so it runs at most once) at another replica.
 */
export class PrimaryBackupClient implements ClientCore<PrimaryBackupWire> {
  private readonly inner: LeaderClient;
  private epoch: Epoch = 0;
  private staleReplies = 0;

  constructor(options: ClientOptions) {
    this.inner = new LeaderClient(options);
  }

  get clientId(): string {
    return this.inner.clientId;
  }

  /** The highest epoch this client has seen. */
  get knownEpoch(): Epoch {
    return this.epoch;
  }

  step(input: In): readonly Out[] {
    let inner = input;
    if (input.type === "response" && input.msg.epoch !== undefined) {
      if (input.msg.epoch < this.epoch) {
        // Its result is refused, but what it says about the sender is still true: it is not
        // the primary of our epoch. The leader client then tries elsewhere (as on any
        // not-leader without a hint) instead of waiting for a timeout.
        this.staleReplies++;
        const result = { ok: false, error: "not-leader" } as const;
        inner = { ...input, msg: { ...input.msg, result } };
      } else {
        this.epoch = input.msg.epoch;
      }
    }
    const out = this.inner.step(inner) as readonly Out[];
    return out.map((o) =>
      o.type === "send" || o.type === "broadcast"
        ? { ...o, msg: { ...o.msg, epoch: this.epoch } }
        : o,
    );
  }

  /** `staleEpochReplies`: replies dropped as older than the known epoch; `epoch`: that epoch. */
  stats(): Readonly<Record<string, number>> {
    return { staleEpochReplies: this.staleReplies, epoch: this.epoch };
  }
}

export function createPrimaryBackupClient(options: ClientOptions): PrimaryBackupClient {
  return new PrimaryBackupClient(options);
}
