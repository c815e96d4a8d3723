import type { ReplicaId } from "../../core/ids.js";
import type { LogEntry } from "../../core/log-entry.js";
import type { ExternalResult } from "../../core/protocol.js";
import { hardStateValue } from "./hard-state.js";
import type { ArbiterAnswer, Epoch } from "./messages.js";
import type { Out, PbNode } from "./node.js";
import { advanceCommit, sendTo } from "./shipping.js";

/** The arbiter and going live: campaigns for the next epoch, the answer, go-live, stepping down. */

export function startCampaign(n: PbNode, out: Out[]): void {
  if (!n.eligible) return;
  n.live = false;
  n.heldQueries = []; // reads wait for a primary that can confirm itself
  n.campaign = { epoch: n.epoch + 1, askId: undefined, askedTick: n.ticks, retryAt: 0 };
  if (n.bug === "go-live-without-arbiter") {
    goLive(n, n.epoch + 1, out);
    return;
  }
  ask(n, out);
}

/**
 * Asks the arbiter for the campaign's epoch, once every write is durable: a winner then holds
 * durably every entry it acknowledged (even in the receipt ack mode), and its disk says that
 * it asked (see PbHardState.asked).
 */
export function ask(n: PbNode, out: Out[]): void {
  const c = n.campaign!;
  if (n.asked < c.epoch) {
    n.asked = c.epoch;
    n.persistHardState(out);
  }
  if (n.durableId < n.nextPersistId - 1) return; // the next tick tries again
  c.askId = n.nextExternalId++;
  c.askedTick = n.ticks;
  out.push({ type: "external", id: c.askId, request: { epoch: c.epoch, replica: n.id } });
}

export function onArbiter(
  n: PbNode,
  id: number,
  result: ExternalResult<ArbiterAnswer>,
  out: Out[],
): void {
  const c = n.campaign;
  if (!c) return; // a late answer to a campaign that is over (its epoch is settled)
  if (!result.ok) {
    if (id === c.askId) {
      c.askId = undefined;
      c.retryAt = n.ticks + n.settings.arbiterRetryTicks;
    }
    return;
  }
  const { epoch, winner } = result.answer;
  if (epoch !== c.epoch || n.epoch >= epoch) return;
  if (winner === n.id && epoch <= n.askedBefore) {
    // Won in an earlier incarnation, which may have gone live and logged entries this one
    // lost: this epoch's (index, epoch) names are spent. Hold the epoch, go live in the next.
    n.epoch = epoch;
    n.primary = n.id;
    n.campaign = undefined;
    n.persistHardState(out);
    startCampaign(n, out);
  } else if (winner === n.id) goLive(n, epoch, out);
  else {
    n.lastLoss = `lost epoch ${epoch} to replica ${winner}; rejoining as its backup`;
    adoptEpoch(n, epoch, winner, out);
  }
}

/**
 * Won the epoch: consume every entry held (they commit in order as they are durable here),
 * mark the epoch's start with an entry of its own, and serve alone until a backup is in sync.
 */
export function goLive(n: PbNode, epoch: Epoch, out: Out[]): void {
  n.campaign = undefined;
  if (n.bug === "go-live-before-consuming-log" && n.log.lastIndex > n.commit) {
    const from = n.commit + 1;
    n.log.truncateFrom(from);
    n.truncated(from);
    n.persist(out, [{ type: "truncate", from }], n.commit);
  }
  n.epoch = epoch;
  n.eligible = true;
  n.primary = n.id;
  n.live = true;
  n.lastLoss = undefined;
  n.pairedWith = undefined;
  n.heldQueries = [];
  const marker: LogEntry = {
    index: n.log.lastIndex + 1,
    term: epoch,
    time: n.stampTime(),
    seed: n.random.u32(),
    payload: { type: "noop" },
  };
  n.log.append(marker);
  n.persist(
    out,
    [
      { type: "hardState", state: hardStateValue({ epoch, eligible: true, asked: n.asked }) },
      { type: "append", entries: [marker] },
    ],
    marker.index,
  );
  n.progress.clear();
  for (const r of n.others) {
    n.progress.set(r, {
      next: marker.index,
      match: 0,
      lastAckTick: n.ticks,
      round: 0,
      snapshotSentTick: -Infinity,
    });
  }
  n.lastBeat = n.ticks;
  for (const r of n.others) sendTo(n, r, out);
  advanceCommit(n, out);
}

/** A newer epoch exists: follow it (as a backup that is not in sync yet). */
export function adoptEpoch(
  n: PbNode,
  epoch: Epoch,
  primary: ReplicaId | undefined,
  out: Out[],
): void {
  n.epoch = epoch;
  n.eligible = false;
  n.primary = primary;
  n.live = false;
  n.campaign = undefined;
  n.awaiting.clear();
  // Commands still in the batch (waiting for the backup's ack) never reached the log: they did
  // not take effect, so their clients are told at once and retry at the new primary.
  const result =
    primary === undefined || primary === n.id
      ? ({ ok: false, error: "not-leader" } as const)
      : ({ ok: false, error: "not-leader", leader: primary } as const);
  for (const c of n.batch) {
    const msg = { type: "reply", client: c.client, seq: c.seq, result } as const;
    out.push({ type: "reply", client: c.client, msg, after: 0 });
  }
  n.batch = [];
  n.heldQueries = [];
  n.pairedWith = undefined;
  n.progress.clear();
  n.heardTick = n.ticks;
  n.persistHardState(out);
}
