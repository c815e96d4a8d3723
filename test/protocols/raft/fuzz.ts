/**
 * A randomized fault test for Raft cores, in the in-memory harness: message loss, duplication,
 * reordering and long delays, partitions, crashes that lose unflushed disk writes, restarts,
 * skewed clocks that may jump back on restart,
 * plus random membership changes and leadership transfers, all driven by the generic leader
 * client. It checks what matters:
 * - election safety: one leader per term;
 * - state machine safety: every replica applies the same entry at each index, and entry times
 *   never decrease along the log;
 * - exactly-once and linearizable reads: each client increments only its own counter and reads
 *   it, so its k-th increment must return k and a read must return the increments completed;
 * - liveness: once faults stop, every outstanding operation completes.
 * It is no substitute for the project's simulator, but it finds protocol bugs early.
 */
import type {
  AdminOp,
  ClientReplyMessage,
  ReplyResult,
} from "../../../src/core/client-messages.js";
import type { ClientOperation } from "../../../src/core/client-operation.js";
import { createLeaderClient, type LeaderClient } from "../../../src/core/leader-client.js";
import { createRandom } from "../../../src/core/prng.js";
import type { ClientOutput } from "../../../src/core/protocol.js";
import type { Value } from "../../../src/core/value.js";
import type { RaftPlantedBug } from "../../../src/protocols/raft/types.js";
import { Cluster, type InFlight } from "./harness.js";

export interface FuzzOptions {
  readonly seed: number;
  readonly n: number;
  /** Rounds with faults; then faults stop and the run continues until clients are idle. */
  readonly rounds: number;
  readonly settings?: { [key: string]: Value };
  readonly crashes?: boolean;
  /** Clients that increment (and maybe read) their own counter. */
  readonly clients?: number;
  readonly reads?: boolean;
  /** An operator adds, removes and transfers at random. */
  readonly admin?: boolean;
  readonly bug?: RaftPlantedBug;
}

export interface FuzzResult {
  readonly commands: number;
  readonly reads: number;
  readonly admins: number;
  readonly terms: number;
  readonly crashes: number;
  readonly snapshots: number;
  readonly installs: number;
}

interface SimClient {
  readonly core: LeaderClient;
  /** Increments completed. */
  count: number;
  busy: "no" | "command" | "read" | "admin";
  opId: number;
}

const healRounds = 3000;

export function fuzz(o: FuzzOptions): FuzzResult {
  const rand = createRandom(o.seed);
  const c = new Cluster({ n: o.n, seed: o.seed, settings: o.settings, bug: o.bug });
  for (const node of c.nodes) {
    node.autoPersist = false;
    node.now = rand.int(10_000); // skewed clocks
  }

  const leaderOfTerm = new Map<number, number>();
  const appliedTerm = new Map<number, number>();
  const appliedTime = new Map<number, number>();
  c.onStep = (node) => {
    const s = node.core.status();
    if (s.role !== "leader") return;
    const known = leaderOfTerm.get(s.term);
    if (known !== undefined && known !== node.id) {
      throw new Error(`two leaders in term ${s.term}: ${known} and ${node.id}`);
    }
    leaderOfTerm.set(s.term, node.id);
  };
  c.onApply = (id, entry) => {
    const t = appliedTerm.get(entry.index);
    if (t !== undefined && t !== entry.term) {
      throw new Error(
        `node ${id} applied entry ${entry.index} of term ${entry.term}, another term ${t}`,
      );
    }
    appliedTerm.set(entry.index, entry.term);
    const before = appliedTime.get(entry.index - 1);
    if (before !== undefined && entry.time < before) {
      throw new Error(
        `entry ${entry.index} has time ${entry.time} below its predecessor's ${before}`,
      );
    }
    appliedTime.set(entry.index, entry.time);
  };

  const clients: SimClient[] = [];
  const workers = o.clients ?? 3;
  for (let i = 0; i < workers + (o.admin ? 1 : 0); i++) {
    const core = createLeaderClient({
      clientId: `c${i}`,
      config: c.config,
      random: rand.fork(),
      crypto: undefined as never,
      retryTicks: 15,
    });
    clients.push({ core, count: 0, busy: "no", opId: 0 });
  }
  const result = { commands: 0, reads: 0, admins: 0, crashes: 0 };

  const handle = (cl: SimClient, outs: readonly ClientOutput<never>[] | readonly unknown[]) => {
    for (const out of outs as readonly (
      | { type: "send"; to: number; msg: unknown }
      | { type: "done"; result: ReplyResult; indeterminate?: boolean }
    )[]) {
      if (out.type === "send") {
        c.client(out.to, out.msg as never);
        continue;
      }
      const kind = cl.busy;
      cl.busy = "no";
      const r = out.result;
      if (kind === "admin") {
        if (r.ok) result.admins++;
      } else if (kind === "read") {
        if (r.ok) {
          if ((r.value ?? 0) !== cl.count) {
            throw new Error(
              `${cl.core.clientId} read ${JSON.stringify(r.value)} after ${cl.count} increments`,
            );
          }
          result.reads++;
        }
      } else if (r.ok) {
        cl.count++;
        if (r.value !== cl.count) {
          throw new Error(
            `${cl.core.clientId}'s increment ${cl.count} returned ${JSON.stringify(r.value)}`,
          );
        }
        result.commands++;
      } else if (out.indeterminate) {
        throw new Error(`${cl.core.clientId}: indeterminate result ${JSON.stringify(r)}`);
      }
    }
  };

  let repliesSeen = 0;
  let delayed: { m: InFlight; at: number }[] = [];
  for (let round = 0; round < o.rounds + healRounds; round++) {
    const healing = round >= o.rounds;
    if (healing && clients.every((cl) => cl.busy === "no")) break;

    // Faults.
    if (!healing) {
      if (rand.chance(0.01)) c.isolate(rand.int(o.n));
      if (rand.chance(0.01)) {
        const a = rand.int(o.n);
        const b = (a + 1) % o.n;
        c.partition(
          [a, b],
          c.nodes.map((x) => x.id).filter((x) => x !== a && x !== b),
        );
      }
      if (rand.chance(0.03)) c.heal();
      if (o.crashes && rand.chance(0.01) && c.nodes.every((x) => x.alive)) {
        c.crash(rand.int(o.n));
        result.crashes++;
      }
      c.drop = () => rand.chance(0.1);
    } else {
      c.heal();
      c.drop = undefined;
    }
    for (const node of c.nodes) {
      if (!node.alive && (healing || rand.chance(0.05))) {
        c.restart(node.id);
        node.now = rand.int(10_000); // the clock may come back earlier than before
      }
    }

    // Clients: one operation at a time each.
    for (let i = 0; i < clients.length; i++) {
      const cl = clients[i]!;
      const isAdmin = o.admin && i === workers;
      if (cl.busy === "no" && !healing) {
        if (isAdmin && rand.chance(0.02)) {
          const target = rand.int(o.n);
          const ops: AdminOp[] = [
            { op: "add", replica: target },
            { op: "remove", replica: target },
            { op: "transfer", to: target },
          ];
          cl.busy = "admin";
          handle(cl, cl.core.step({ type: "admin", opId: ++cl.opId, admin: ops[rand.int(3)]! }));
        } else if (!isAdmin && rand.chance(0.3)) {
          const reading = !!o.reads && rand.chance(0.4);
          const op: ClientOperation = reading
            ? { kind: "query", value: { get: `c${i}` } }
            : { kind: "command", value: { op: "incr", key: `c${i}` } };
          cl.busy = reading ? "read" : "command";
          handle(cl, cl.core.step({ type: "invoke", opId: ++cl.opId, op }));
        }
      }
      handle(cl, cl.core.step({ type: "tick", now: round * 10 }));
    }

    // Replicas: tick, disks (slow, unless healing), network.
    for (const node of c.nodes) {
      if (!node.alive) continue;
      c.tick(node.id);
      if (healing || rand.chance(0.5)) c.flushDisk(node.id);
    }
    for (const d of delayed) if (d.at <= round) c.network.push(d.m);
    delayed = delayed.filter((d) => d.at > round);
    const deliveries = c.network.length;
    for (let i = 0; i < deliveries && c.network.length > 0; i++) {
      const at = rand.int(Math.min(c.network.length, 8)); // reordering
      const m = c.network[at]!;
      if (!healing && rand.chance(0.03)) c.network.push(m); // duplication
      if (!healing && rand.chance(0.02)) {
        delayed.push({ m, at: round + 5 + rand.int(60) }); // long delay
        c.network.splice(at, 1);
        continue;
      }
      c.deliverAt(at);
    }

    // Replies reach clients one hop per round.
    const upTo = c.replies.length;
    for (; repliesSeen < upTo; repliesSeen++) {
      const r = c.replies[repliesSeen]!;
      const cl = clients[Number(r.client.slice(1).split(".")[0])]!;
      handle(
        cl,
        cl.core.step({ type: "response", from: r.from, msg: r.msg as ClientReplyMessage }),
      );
    }
  }

  const stuck = clients.filter((cl) => cl.busy !== "no");
  if (stuck.length > 0) {
    const states = c.nodes.map(
      (x) => `${x.id}${x.alive ? "" : " (down)"}: ${JSON.stringify(x.core.status())}`,
    );
    throw new Error(
      `liveness: ${stuck.map((cl) => `${cl.core.clientId} (${cl.busy})`).join(", ")} still waiting after faults stopped\n${states.join("\n")}`,
    );
  }
  let snapshots = 0;
  let installs = 0;
  for (const node of c.nodes) {
    snapshots += node.trace.filter((x) => x.type === "takeSnapshot").length;
    installs += node.trace.filter((x) => x.type === "installSnapshot").length;
  }
  return { ...result, terms: leaderOfTerm.size, snapshots, installs };
}
