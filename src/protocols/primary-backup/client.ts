import { LeaderClient } from "../../core/leader-client.js";
import type { ClientCore, ClientInput, ClientOptions, ClientOutput } from "../../core/protocol.js";
import type { Epoch, PrimaryBackupWire } from "./messages.js";

type In = ClientInput<PrimaryBackupWire>;
type Out = ClientOutput<PrimaryBackupWire>;

/**
 * The primary/backup client: the shared leader client (sessions, retries, redirects) plus
 * epochs. It remembers the highest epoch any reply of its cluster carried, sends it with every
 * request (a primary from an older epoch then knows it is deposed and refuses), and drops, and
 * counts, a reply from an older epoch than that: a deposed primary's answer is not taken, the
 * request stays pending and is retried (same session and sequence number) at the new primary.
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
    if (input.type === "response" && input.msg.epoch !== undefined) {
      if (input.msg.epoch < this.epoch) {
        this.staleReplies++;
        return [];
      }
      this.epoch = input.msg.epoch;
    }
    const out = this.inner.step(input) as readonly Out[];
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
