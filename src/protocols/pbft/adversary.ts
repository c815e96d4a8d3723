import type { Crypto } from "../../core/crypto.js";
import { equalBytes } from "../../core/crypto.js";
import type { ReplicaId } from "../../core/ids.js";
import type { Random } from "../../core/prng.js";
import type {
  CoreInput,
  CoreOutput,
  CoreStatus,
  ProtocolCore,
  WireTypes,
} from "../../core/protocol.js";
import type { Value } from "../../core/value.js";
import {
  makeCommit,
  makeReply,
  signNewView,
  signPrePrepare,
  signPrepare,
  signViewChange,
} from "./authenticator.js";
import type { Digest, PbftReplicaMessage, Reply } from "./messages.js";
import { requestDigest } from "./signed-bytes.js";

/**
 * The simulator's Byzantine replicas. A faulty replica runs the correct core underneath (so it
 * knows what a correct replica would say) and lies on top of it, with its own keys only: it can
 * sign anything as itself and nothing as another replica. Each faulty replica of a run gets one
 * behaviour from the catalog, drawn from the seed.
 */
export const byzantineBehaviours = [
  /** Sends nothing at all (a crashed or partitioned replica that still looks alive to nobody). */
  "silent",
  /** As primary, sends a different batch for the same sequence number to half of the backups. */
  "equivocate",
  /** Prepares and commits a digest other than the one it received. */
  "wrong-digest",
  /** Signs prepares and commits in another replica's name (they must fail authentication). */
  "forge-sender",
  /** Sends again messages it sent long ago (old views, old checkpoints). */
  "replay",
  /** Answers clients with a wrong result, correctly authenticated. */
  "corrupt-replies",
  /** Sends view-changes without its prepared certificates (forgets what prepared). */
  "lying-view-change",
  /** As primary, holds every pre-prepare back for a while (just under the backups' patience). */
  "slow-primary",
  /** Floods the others with duplicate and junk votes. */
  "flood",
  /** As primary, alters a client's request inside its batch (the client's signature no longer holds). */
  "alter-request",
  /** As primary, proposes a time hours ahead of every clock (to expire sessions, say). */
  "future-time",
  /** As a new primary, re-issues null requests in NEW-VIEW instead of the prepared batches. */
  "new-view-omits",
] as const;

export type ByzantineBehaviour = (typeof byzantineBehaviours)[number];

type Out = CoreOutput<{ peer: PbftReplicaMessage; request: unknown; response: Reply }>;

/** Makes `core` a Byzantine replica with `behaviour`. */
export function byzantine(
  core: ProtocolCore<WireTypes>,
  behaviour: ByzantineBehaviour,
  random: Random,
  crypto: Crypto,
): ProtocolCore<WireTypes> {
  const history: Out[] = [];
  const delayed: { release: number; out: Out }[] = [];
  let ticks = 0;
  const otherDigest = (d: Digest): Digest => {
    const x = Uint8Array.from(d);
    x[0] = x[0]! ^ 0xff;
    return x;
  };
  const lie = (o: Out): Out[] => {
    if (o.type === "reply") {
      if (behaviour === "silent") return [];
      if (behaviour === "corrupt-replies") {
        const r = o.msg as Reply;
        const wrong: Value = { ok: true, value: `forged-${random.u32()}` };
        return [{ ...o, msg: makeReply(crypto, r, wrong, true) }];
      }
      return [o];
    }
    if (o.type !== "send") return [o];
    const msg = o.msg as PbftReplicaMessage;
    switch (behaviour) {
      case "silent":
        return [];
      case "equivocate":
        if (msg.type === "preprepare" && o.to % 2 === 0 && msg.batch.requests.length > 0) {
          const batch = { ...msg.batch, time: msg.batch.time + 1 + random.int(5) };
          return [{ ...o, msg: signPrePrepare(crypto, { ...msg, batch }, msg.inline) }];
        }
        return [o];
      case "wrong-digest":
        if (msg.type === "prepare")
          return [{ ...o, msg: signPrepare(crypto, { ...msg, digest: otherDigest(msg.digest) }) }];
        if (msg.type === "commit") {
          const forged = { ...msg, digest: otherDigest(msg.digest) };
          return [{ ...o, msg: makeCommit(crypto, msg.auth.length, forged) }];
        }
        return [o];
      case "forge-sender": {
        const victim: ReplicaId = (msg as { replica?: number }).replica === 0 ? 1 : 0;
        if (msg.type === "prepare") {
          const signed = signPrepare(crypto, { ...msg });
          return [o, { ...o, msg: { ...signed, replica: victim } }];
        }
        if (msg.type === "commit") {
          const made = makeCommit(crypto, msg.auth.length, { ...msg });
          return [o, { ...o, msg: { ...made, replica: victim } }];
        }
        return [o];
      }
      case "replay":
        if (history.length > 50 && random.chance(0.2)) {
          return [o, history[random.int(Math.min(history.length, 500))]!];
        }
        return [o];
      case "lying-view-change":
        if (msg.type === "viewchange") {
          const { type: _t, sig: _s, ...fields } = msg;
          return [{ ...o, msg: signViewChange(crypto, { ...fields, prepared: [] }) }];
        }
        return [o];
      case "slow-primary":
        if (msg.type === "preprepare") {
          delayed.push({ release: ticks + 8 + random.int(8), out: o });
          return [];
        }
        return [o];
      case "alter-request":
        if (msg.type === "preprepare" && msg.inline.length > 0) {
          const inline = msg.inline.map((r, i) =>
            i === 0
              ? { ...r, op: { kind: "command", value: { op: "put", key: "k0", value: "forged" } } }
              : r,
          );
          const requests = msg.batch.requests.map((d, i) =>
            i === 0 && msg.inline[0] && equalBytes(d, requestDigest(crypto, msg.inline[0]))
              ? requestDigest(crypto, inline[0]!)
              : d,
          );
          const batch = { ...msg.batch, requests };
          return [{ ...o, msg: signPrePrepare(crypto, { ...msg, batch }, inline) }];
        }
        return [o];
      case "future-time":
        if (msg.type === "preprepare" && msg.batch.requests.length > 0) {
          const batch = { ...msg.batch, time: msg.batch.time + 10 * 3_600_000 };
          return [{ ...o, msg: signPrePrepare(crypto, { ...msg, batch }, msg.inline) }];
        }
        return [o];
      case "new-view-omits":
        if (msg.type === "newview" && msg.prePrepares.length > 0) {
          const prePrepares = msg.prePrepares.map((pp) =>
            signPrePrepare(crypto, { ...pp, batch: { time: 0, requests: [] } }),
          );
          const { type: _t, sig: _s, ...fields } = msg;
          return [{ ...o, msg: signNewView(crypto, { ...fields, prePrepares }) }];
        }
        return [o];
      case "flood":
        if (msg.type === "prepare" || msg.type === "commit" || msg.type === "checkpoint") {
          const copies: Out[] = [o];
          for (let i = 0; i < 5; i++) copies.push(o);
          return copies;
        }
        return [o];
      default:
        return [o];
    }
  };
  return {
    id: core.id,
    status(summaryOnly?: boolean): CoreStatus {
      return core.status(summaryOnly);
    },
    step(input: CoreInput<WireTypes>): readonly CoreOutput<WireTypes>[] {
      const out: Out[] = [];
      if (input.type === "tick") {
        ticks++;
        for (let i = delayed.length - 1; i >= 0; i--) {
          if (delayed[i]!.release <= ticks) {
            out.push(delayed[i]!.out);
            delayed.splice(i, 1);
          }
        }
      }
      for (const o of core.step(input) as readonly Out[]) {
        if (o.type === "send" && history.length < 2000) history.push(o);
        for (const x of lie(o)) out.push(x);
      }
      return out as readonly CoreOutput<WireTypes>[];
    },
  };
}
