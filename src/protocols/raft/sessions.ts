import type { CommandRequest } from "../../core/client-messages.js";
import type { LoggedCommand } from "../../core/log-entry.js";
import type { AppliedCommand } from "../../core/replicated-service.js";
import type { RaftNode } from "./node.js";
import { hasQuorum } from "./quorum.js";
import { appendAsLeader, broadcastAppend } from "./replication.js";

/**
 * Client commands (dissertation 6.3). The leader batches commands into `commands` entries as
 * LoggedCommands; the replicated session table (applied by the driver) makes them exactly-once.
 * A replica answers a command only if it received it, once the driver reports its result.
 */

/** `forbidden`: the client may not make it (core/access.ts); it is ordered as a refusal. */
export function handleCommand(n: RaftNode, msg: CommandRequest, forbidden = false): void {
  const { client, seq } = msg;
  if (n.role !== "leader") {
    n.reply(client, { type: "reply", client, seq, result: n.notLeader() });
    return;
  }
  if (n.transfer) {
    // During a leadership transfer the leader takes no new commands (dissertation 3.10). "busy"
    // with the target as hint: the client retries there shortly, when it has probably taken over.
    const result = {
      ok: false as const,
      error: "busy" as const,
      message: "leadership transfer in progress",
      leader: n.transfer.to,
    };
    n.reply(client, { type: "reply", client, seq, result });
    return;
  }
  // A retry of a command already in this leader's log or batch is answered once (proposals.ts).
  const command: LoggedCommand = forbidden
    ? { client, seq, ackedBelow: msg.ackedBelow, cmd: null, forbidden: true }
    : { client, seq, ackedBelow: msg.ackedBelow, cmd: seq === 0 ? null : msg.cmd };
  if (!n.proposals.add(command, n.term)) return;
  if (n.proposals.batchLength >= n.settings.maxBatchCommands || !replicationBusy(n)) flushBatch(n);
}

/**
 * Natural batching: a command goes out at once while a quorum of voters (the leader counting
 * itself) has no AppendEntries in flight, since those can store and commit it without waiting.
 * Otherwise it waits in the batch, and the next acknowledgement (handleAppendReply) or tick
 * closes it. So a lone client waits neither for a tick nor for the slowest follower's
 * acknowledgement of its previous command, and under load one entry carries whatever arrived
 * during a round trip.
 */
function replicationBusy(n: RaftNode): boolean {
  return !hasQuorum(n.membership, (id) => {
    if (id === n.id) return true;
    const pr = n.progress.get(id);
    return pr !== undefined && pr.state === "replicate" && pr.inflight.length === 0;
  });
}

/** Turns the commands received since the last flush into one log entry and sends it. */
export function flushBatch(n: RaftNode): void {
  if (n.role !== "leader" || n.proposals.batchLength === 0) return;
  const commands = n.proposals.takeBatch();
  appendAsLeader(n, { type: "commands", commands });
  broadcastAppend(n);
}

/** Commands that never reached the log when leadership was lost: they did not take effect. */
export function dropBatch(n: RaftNode): void {
  for (const c of n.proposals.dropBatch()) {
    n.reply(c.client, { type: "reply", client: c.client, seq: c.seq, result: n.notLeader() });
  }
}

export function answerApplied(n: RaftNode, results: readonly AppliedCommand[]): void {
  for (const r of results) {
    if (!n.proposals.answer(r.client, r.seq)) continue;
    n.reply(r.client, { type: "reply", client: r.client, seq: r.seq, result: r.result });
  }
}
