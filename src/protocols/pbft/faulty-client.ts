import type { Crypto } from "../../core/crypto.js";
import type { Random } from "../../core/prng.js";
import type {
  ClientCore,
  ClientInput,
  ClientOptions,
  ClientOutput,
  WireTypes,
} from "../../core/protocol.js";
import { signRequest } from "./authenticator.js";
import type { Request } from "./messages.js";

/**
 * The simulator's Byzantine client (Clement et al., NSDI'09, "Making Byzantine fault tolerant
 * systems tolerate Byzantine faults"). It runs next to correct clients, whose histories are still
 * checked and whose operations must still complete, and every few ticks tries one attack:
 */
export const faultyClientAttacks = [
  /** The "big MAC" attack: one request, correctly signed for some replicas, corrupted for the others. */
  "split-signature",
  /**
   * The big-MAC attack on the authenticator: a correctly signed request whose MAC entries are
   * wrong for some replicas (they must fall back to the signature).
   */
  "split-mac",
  /**
   * Correct MAC entries and a signature that verifies nowhere: whoever vouches for the request
   * first (the primary) must refuse it, or the backups would disagree about it.
   */
  "mac-without-signature",
  /** A request whose signature verifies nowhere, to every replica. */
  "bad-signature",
  /** A request in a correct client's name, signed with the faulty client's own key. */
  "impersonate",
  /** A correctly signed request with a huge operation (hundreds of KiB). */
  "oversized",
  /** Messages that are not requests, or requests of the wrong shape (some correctly signed). */
  "malformed",
  /** A burst of correctly signed requests, to every replica at once. */
  "torrent",
  /** One old request, sent again many times. */
  "replay",
] as const;

export type FaultyClientAttack = (typeof faultyClientAttacks)[number];

/**
 * The faulty client never opens a session, so the requests that do get ordered take no effect
 * on the service (they are answered `session-expired`): the correct clients' histories stay
 * checkable while the replicas do all the work of ordering them.
 */
export class FaultyPbftClient implements ClientCore<WireTypes> {
  readonly clientId: string;
  private readonly n: number;
  private readonly crypto: Crypto;
  private readonly random: Random;
  private ticks = 0;
  private timestamp = 1;
  private readonly sent: Request[] = [];
  /** Attacks made, by kind (reported by the simulator's trace). */
  readonly attacks = new Map<FaultyClientAttack, number>();
  /** Replies it received, which it ignores. */
  replies = 0;

  constructor(
    options: ClientOptions,
    /** Ticks between attacks. */
    private readonly gapTicks: number,
    /** A correct client's id, to impersonate. */
    private readonly victim: string,
  ) {
    this.clientId = options.clientId;
    this.n = options.config.replicas.length;
    this.crypto = options.crypto;
    this.random = options.random;
  }

  step(input: ClientInput<WireTypes>): readonly ClientOutput<WireTypes>[] {
    if (input.type === "response") {
      this.replies++;
      return [];
    }
    if (input.type !== "tick" || ++this.ticks % this.gapTicks !== 0) return [];
    const attack = faultyClientAttacks[this.random.int(faultyClientAttacks.length)]!;
    this.attacks.set(attack, (this.attacks.get(attack) ?? 0) + 1);
    return this.attack(attack);
  }

  private request(op: unknown, client = this.clientId): Request {
    const r = signRequest(
      this.crypto,
      {
        client,
        timestamp: this.timestamp++,
        ackedBelow: 0,
        readOnly: false,
        op: op as Request["op"],
      },
      this.n,
    );
    if (this.sent.length < 64) this.sent.push(r);
    return r;
  }

  private corrupt(r: Request): Request {
    const sig = Uint8Array.from(r.sig);
    sig[this.random.int(sig.length)]! ^= 1 << this.random.int(8);
    return { ...r, sig };
  }

  /** The same request with the MAC entries of a random nonempty subset of replicas flipped. */
  private corruptMacs(r: Request): Request {
    const badAt = this.random.int(this.n);
    const auth = (r.auth ?? []).map((entry, i) => {
      if (i !== badAt && !this.random.chance(0.5)) return entry;
      const bad = Uint8Array.from(entry);
      bad[this.random.int(bad.length)]! ^= 1 << this.random.int(8);
      return bad;
    });
    return { ...r, auth };
  }

  private command(): unknown {
    return { kind: "command", value: { op: "put", key: "faulty", value: this.random.u32() } };
  }

  private attack(kind: FaultyClientAttack): ClientOutput<WireTypes>[] {
    switch (kind) {
      case "split-signature": {
        const good = this.request(this.command());
        const bad = this.corrupt(good);
        // At least one replica of each kind, so the replicas disagree about the request.
        const badAt = this.random.int(this.n);
        const goodAt = (badAt + 1 + this.random.int(this.n - 1)) % this.n;
        return Array.from({ length: this.n }, (_, to) => ({
          type: "send" as const,
          to,
          msg: to === goodAt || (to !== badAt && this.random.chance(0.5)) ? good : bad,
        }));
      }
      case "split-mac":
        return [{ type: "broadcast", msg: this.corruptMacs(this.request(this.command())) }];
      case "mac-without-signature":
        return [{ type: "broadcast", msg: this.corrupt(this.request(this.command())) }];
      case "bad-signature": {
        const { auth: _mac, ...unauthenticated } = this.corrupt(this.request(this.command()));
        return [{ type: "broadcast", msg: unauthenticated }];
      }
      case "impersonate":
        return [{ type: "broadcast", msg: this.request(this.command(), this.victim) }];
      case "oversized": {
        const size = 100_000 + this.random.int(400_000);
        const op = {
          kind: "command",
          value: { op: "put", key: "faulty", value: "x".repeat(size) },
        };
        return [{ type: "send", to: this.random.int(this.n), msg: this.request(op) }];
      }
      case "malformed": {
        const junk: unknown[] = [
          { type: "request", client: 42 },
          { type: "preprepare", view: 0, seq: 1 },
          "not a request",
          { ...this.request(this.command()), sig: new Uint8Array(3) },
          // Correctly signed, but its op is no operation at all.
          this.request({ kind: "neither", value: 1, extra: true }),
          this.request(null),
        ];
        return [{ type: "broadcast", msg: junk[this.random.int(junk.length)] }];
      }
      case "torrent": {
        const out: ClientOutput<WireTypes>[] = [];
        for (let i = 0; i < 10 + this.random.int(30); i++)
          out.push({ type: "broadcast", msg: this.request(this.command()) });
        return out;
      }
      case "replay": {
        const old = this.sent[this.random.int(Math.max(1, this.sent.length))];
        if (!old) return [];
        return Array.from({ length: 10 }, () => ({ type: "broadcast" as const, msg: old }));
      }
    }
  }
}
