import type { ReplicaId } from "../../core/ids.js";
import type {
  CoreInput,
  CoreOutput,
  CoreStatus,
  ProtocolCore,
  ReplicaOptions,
} from "../../core/protocol.js";
import { isPlainObject } from "../../core/schema.js";
import type { Value } from "../../core/value.js";
import { InvariantWatch } from "./invariants.js";
import { RaftLog } from "./log.js";
import { ConfigHistory, makeMembership, parseMembership } from "./membership.js";
import type { RaftWire } from "./messages.js";
import { RaftNode } from "./node.js";
import { step } from "./raft.js";
import { parseRaftSettings } from "./settings.js";
import { snapshotTerm } from "./snapshot-meta.js";
import {
  invariant,
  type RaftHardState,
  type RaftPlantedBug,
  type RaftStatusRole,
} from "./types.js";

/**
 * A Raft replica as a sans-IO core: inputs in, outputs out, no clocks or I/O (see
 * src/core/protocol.ts). This file recovers the state from disk; raft.ts steps the inputs
 * (see docs/protocols/raft.md for the module map).
 */
export class RaftCore implements ProtocolCore<RaftWire> {
  readonly id: ReplicaId;
  private readonly n: RaftNode;
  private readonly watch = new InvariantWatch();

  constructor(options: ReplicaOptions, plantedBug?: RaftPlantedBug) {
    const replicaCount = options.config.replicas.length;
    invariant(
      Number.isInteger(options.id) && options.id >= 0 && options.id < replicaCount,
      () => `replica id ${options.id} is not in the address book of ${replicaCount}`,
    );
    const settings = parseRaftSettings(options.config.settings, replicaCount);
    const allReplicas = options.config.replicas.map((r) => r.id);
    const initial = makeMembership(settings.initialVoters ?? allReplicas, []);
    const durable = options.durable;
    const snap = durable.snapshot;
    const base = snap?.meta.index ?? 0;
    const log = new RaftLog(base, snap ? snapshotTerm(snap.meta) : 0);
    const configs = new ConfigHistory(
      base,
      snap ? parseMembership(snap.meta.config, replicaCount) : initial,
      replicaCount,
    );
    const n = new RaftNode(
      options.id,
      settings,
      plantedBug,
      options.random,
      replicaCount,
      options.config.tickMs,
      log,
      configs,
    );
    this.id = options.id;
    this.n = n;

    const hard = parseHardState(durable.hardState);
    n.term = hard.term;
    n.vote = hard.vote;
    if (snap) n.snapshot = { meta: snap.meta, data: snap.data };
    n.snapshotTime = hard.snapshotTime ?? 0;
    n.lastEntryTime = n.snapshotTime;
    // Entries after the snapshot, contiguous (the driver may hand us older ones too: skip them).
    const entries = durable.entries.filter((e) => e.index > base);
    log.append(entries);
    configs.onAppend(entries);
    for (const e of entries) n.lastEntryTime = Math.max(n.lastEntryTime, e.time);
    // The service is restored from the snapshot by the driver; later entries are applied again
    // once this replica learns the commit index.
    n.commitIndex = base;
    n.appliedRequested = base;
    n.applied = base;
    n.durableIndex = log.lastIndex;
  }

  step(input: CoreInput<RaftWire>): readonly CoreOutput<RaftWire>[] {
    return step(this.n, input);
  }

  /**
   * Checks what must hold after every step (the simulator calls it after each one); throws a
   * "raft invariant violated" error otherwise. See assertRaftInvariants.
   */
  assertInvariants(): void {
    this.watch.check(this.n);
  }

  status(summaryOnly = false): CoreStatus {
    const n = this.n;
    const role: RaftStatusRole = n.role === "follower" && !n.isVoter ? "learner" : n.role;
    if (summaryOnly) {
      const { term, leader, commitIndex } = n;
      return { role, term, leader, commitIndex, lastIndex: n.log.lastIndex };
    }
    const progress: { [id: string]: Value } = {};
    for (const [id, pr] of n.progress) progress[String(id)] = pr.describe();
    return {
      role,
      term: n.term,
      leader: n.leader,
      commitIndex: n.commitIndex,
      lastIndex: n.log.lastIndex,
      details: {
        voters: n.membership.voters,
        learners: n.membership.learners,
        vote: n.vote,
        appliedIndex: n.applied,
        applyRequestedIndex: n.appliedRequested,
        snapshotIndex: n.snapshot?.meta.index ?? 0,
        firstIndex: n.log.offset + 1,
        durableIndex: n.durableIndex,
        persistedUpTo: n.persistedUpTo,
        pendingCommands: n.proposals.size,
        pendingReads: n.readOnly.pending,
        refusedSnapshotChunks: n.refusedSnapshotChunks,
        transferTo: n.transfer?.to ?? null,
        progress,
      },
    };
  }
}

function parseHardState(v: Value | undefined): RaftHardState {
  if (v === undefined || v === null) return { term: 0, vote: null };
  const isCount = (x: unknown): x is number =>
    typeof x === "number" && Number.isInteger(x) && x >= 0;
  const ok =
    isPlainObject(v) &&
    isCount(v.term) &&
    (v.vote === null || isCount(v.vote)) &&
    (v.snapshotTime === undefined || isCount(v.snapshotTime));
  invariant(ok, () => `malformed raft hard state ${JSON.stringify(v)}`);
  return v as unknown as RaftHardState;
}
