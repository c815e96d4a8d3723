/**
 * An in-memory cluster of Raft replicas for unit tests and trace tests. Each replica is a
 * RaftCore driven by the project's own ReplicaNode (the driver the simulator and the runtime
 * use, so queries, applies, snapshots and held messages behave exactly as there); this file
 * only adds a network (FIFO, with partitions and drop filters), a disk per node
 * (DurableStateBuilder) that becomes durable at once or when a test flushes it, and clocks.
 */
import type { AccessPolicy } from "../../../src/core/access.js";
import type {
  ClientReplyMessage,
  ClientRequestMessage,
} from "../../../src/core/client-messages.js";
import { type ClusterConfig, simulatedCluster } from "../../../src/core/config.js";
import type { Crypto } from "../../../src/core/crypto.js";
import { DurableStateBuilder } from "../../../src/core/durable-state-builder.js";
import type { ClientId, ReplicaId } from "../../../src/core/ids.js";
import type { LogEntry } from "../../../src/core/log-entry.js";
import { createRandom } from "../../../src/core/prng.js";
import type {
  CoreInput,
  CoreOutput,
  CoreStatus,
  DurableState,
  ProtocolCore,
} from "../../../src/core/protocol.js";
import { emptyDurableState } from "../../../src/core/protocol.js";
import { ReplicatedService } from "../../../src/core/replicated-service.js";
import type { AnyServiceDefinition, StateMachine } from "../../../src/core/state-machine.js";
import type { Value } from "../../../src/core/value.js";
import { decode, encode } from "../../../src/platform/codec.js";
import { raftDurableRules } from "../../../src/protocols/raft/contract.js";
import { RaftCore } from "../../../src/protocols/raft/core.js";
import type { RaftMessage, RaftWire } from "../../../src/protocols/raft/messages.js";
import type { RaftPlantedBug } from "../../../src/protocols/raft/types.js";
import { ReplicaNode } from "../../../src/replica/replica-node.js";

// ---------------------------------------------------------------- a test state machine

/** Commands: put a key, or increment a counter key. Queries: get a key. */
export type KvCommand = { op: "put"; key: string; value: number } | { op: "incr"; key: string };

class KvMachine implements StateMachine<Value, Value, Value, Value> {
  data = new Map<string, number>();
  apply(cmd: Value): Value {
    const c = cmd as KvCommand;
    if (c.op === "put") {
      this.data.set(c.key, c.value);
      return c.value;
    }
    const v = (this.data.get(c.key) ?? 0) + 1;
    this.data.set(c.key, v);
    return v;
  }
  query(q: Value): Value {
    return this.data.get((q as { get: string }).get) ?? null;
  }
  snapshot(): Uint8Array {
    return encode([...this.data].sort((a, b) => (a[0] < b[0] ? -1 : 1)));
  }
  restore(bytes: Uint8Array): void {
    this.data = new Map(decode(bytes) as [string, number][]);
  }
}

export const kvService: AnyServiceDefinition = {
  name: "test-kv",
  create: () => new KvMachine(),
  validateCommand: (cmd) =>
    cmd !== null && typeof cmd === "object" && "op" in cmd ? undefined : "not a kv command",
  validateQuery: (q) =>
    q !== null && typeof q === "object" && "get" in q ? undefined : "not a kv query",
};

export function put(key: string, value: number): Value {
  return { op: "put", key, value };
}

// ---------------------------------------------------------------- the harness

const noCrypto: Crypto = {
  digest: () => new Uint8Array(32),
  mac: () => new Uint8Array(32),
  verifyMac: () => true,
  sign: () => new Uint8Array(64),
  verify: () => true,
};

type Output = CoreOutput<RaftWire>;
type Input = CoreInput<RaftWire>;

export interface SimNode {
  readonly id: ReplicaId;
  core: RaftCore;
  /** The driver: the same ReplicaNode the simulator and the real runtime use. */
  replica: ReplicaNode<RaftWire>;
  /** What survives a crash: persists made durable, in order. */
  disk: DurableStateBuilder;
  /** Persists issued but not durable yet (only when autoPersist is off). */
  unflushed: { id: number; ops: Extract<Output, { type: "persist" }>["ops"] }[];
  durableUpTo: number;
  /** Every output this incarnation's core produced, in order. */
  trace: Output[];
  alive: boolean;
  autoPersist: boolean;
  /** This node's clock (ms): ticks carry it as both wall and monotonic time. */
  now: number;
  /** Highest persist id seen, to check that ids increase by one. */
  lastPersistId: number;
  /** The replicated service the driver applies to. */
  readonly service: ReplicatedService;
}

export interface InFlight {
  readonly from: ReplicaId;
  readonly to: ReplicaId;
  readonly msg: RaftMessage;
}

export interface ClusterOptions {
  readonly n: number;
  readonly settings?: { [key: string]: Value };
  readonly seed?: number;
  /** A planted bug for every node, or per node. */
  readonly bug?: RaftPlantedBug | ((id: ReplicaId) => RaftPlantedBug | undefined);
  /** Initial disks (for crafted logs). */
  readonly durable?: (id: ReplicaId) => DurableState | undefined;
  /** Initial client roles (default: every client admin, as without a `clients` section). */
  readonly access?: AccessPolicy;
}

/**
 * The core as ReplicaNode sees it, recording every step's outputs for the test and checking
 * what a driver relies on (persist ids in order, `after` naming an issued persist) and the
 * core's own invariants after every step.
 */
class RecordingCore implements ProtocolCore<RaftWire> {
  constructor(
    readonly inner: RaftCore,
    private readonly onOutputs: (outputs: readonly Output[]) => void,
  ) {}

  get id(): ReplicaId {
    return this.inner.id;
  }

  step(input: Input): readonly Output[] {
    const outputs = this.inner.step(input);
    this.inner.assertInvariants();
    this.onOutputs(outputs);
    return outputs;
  }

  status(): CoreStatus {
    return this.inner.status();
  }
}

export class Cluster {
  readonly config: ClusterConfig;
  readonly nodes: SimNode[] = [];
  network: InFlight[] = [];
  readonly replies: { from: ReplicaId; client: ClientId; msg: ClientReplyMessage }[] = [];
  /** Every message delivered, for assertions on traffic. */
  readonly delivered: InFlight[] = [];
  /** Return true to drop a message when it would be delivered. */
  drop: ((m: InFlight) => boolean) | undefined;
  /** Called for every entry a node hands to its service. */
  onApply: ((id: ReplicaId, entry: LogEntry) => void) | undefined;
  /** Called after every core step. */
  onStep: ((node: SimNode) => void) | undefined;
  private readonly cut = new Set<string>();
  private readonly options: ClusterOptions;

  constructor(options: ClusterOptions) {
    this.options = options;
    this.config = simulatedCluster("raft", options.n, Math.floor((options.n - 1) / 2), {
      ...options.settings,
    });
    for (let id = 0; id < options.n; id++) {
      const disk = new DurableStateBuilder(raftDurableRules);
      const initial = options.durable?.(id);
      if (initial) {
        if (initial.hardState !== undefined)
          disk.apply({ type: "hardState", state: initial.hardState });
        if (initial.snapshot) disk.apply({ type: "snapshot", ...initial.snapshot });
        if (initial.entries.length > 0) disk.apply({ type: "append", entries: initial.entries });
      }
      const node: SimNode = {
        id,
        core: undefined as unknown as RaftCore,
        replica: undefined as unknown as ReplicaNode<RaftWire>,
        disk,
        unflushed: [],
        durableUpTo: 0,
        trace: [],
        alive: true,
        autoPersist: true,
        now: 0,
        lastPersistId: 0,
        get service() {
          return this.replica.service;
        },
      };
      this.nodes.push(node);
      this.boot(node);
    }
  }

  private bugFor(id: ReplicaId): RaftPlantedBug | undefined {
    const bug = this.options.bug;
    return typeof bug === "function" ? bug(id) : bug;
  }

  /** Starts a node from its disk (first boot or restart), driven by a fresh ReplicaNode. */
  private boot(node: SimNode): void {
    const durable = node.disk.build();
    const service = new ReplicatedService(kvService, undefined, this.options.access);
    if (durable.snapshot) service.restore(durable.snapshot.data);
    node.core = new RaftCore(
      {
        id: node.id,
        config: this.config,
        random: createRandom((this.options.seed ?? 1) * 1000 + node.id * 7 + node.trace.length),
        crypto: noCrypto,
        durable,
      },
      this.bugFor(node.id),
    );
    node.unflushed = [];
    node.durableUpTo = 0;
    node.lastPersistId = 0;
    node.alive = true;
    const core = new RecordingCore(node.core, (outputs) => this.recorded(node, outputs));
    node.replica = new ReplicaNode<RaftWire>(
      core,
      service,
      {
        sendPeer: (to, msg) => {
          if (node.replica === replica) this.network.push({ from: node.id, to, msg });
        },
        sendClient: (client, msg) => {
          if (node.replica === replica) this.replies.push({ from: node.id, client, msg });
        },
        persist: (id, ops) => {
          if (node.replica !== replica) return;
          node.unflushed.push({ id, ops });
          if (node.autoPersist) this.makeDurable(node, id);
        },
      },
      { onApply: (entry) => this.onApply?.(node.id, entry) },
    );
    const replica = node.replica;
  }

  private recorded(node: SimNode, outputs: readonly Output[]): void {
    // Sanity bounds: a core that floods the network or its driver is a bug.
    if (outputs.length > 5000)
      throw new Error(`node ${node.id}: ${outputs.length} outputs in one step`);
    if (this.network.length > 20_000) throw new Error("network flooded");
    for (const o of outputs) {
      if (o.type === "persist") {
        if (o.id !== node.lastPersistId + 1)
          throw new Error(`node ${node.id}: persist id ${o.id} after ${node.lastPersistId}`);
        node.lastPersistId = o.id;
      } else if ((o.type === "send" || o.type === "reply") && o.after > node.lastPersistId) {
        throw new Error(`node ${node.id}: ${o.type} waits for persist ${o.after} not issued yet`);
      }
      node.trace.push(o);
    }
    this.onStep?.(node);
  }

  node(id: ReplicaId): SimNode {
    return this.nodes[id]!;
  }

  status(id: ReplicaId) {
    return this.node(id).core.status();
  }

  /**
   * Feeds one input to a node's ReplicaNode, which carries out everything that follows locally
   * (applies, queries once applied, snapshots, held messages); returns the core's outputs.
   */
  step(id: ReplicaId, input: Input): Output[] {
    const node = this.node(id);
    if (!node.alive) return [];
    const start = node.trace.length;
    node.replica.handle(input);
    return node.trace.slice(start);
  }

  /** Writes the persists up to `upTo` to the node's disk and tells its driver. */
  private makeDurable(node: SimNode, upTo: number): void {
    while (node.unflushed.length > 0 && node.unflushed[0]!.id <= upTo) {
      const p = node.unflushed.shift()!;
      for (const op of p.ops) node.disk.apply(op);
      node.durableUpTo = p.id;
    }
    node.replica.durable(node.durableUpTo);
  }

  /** Makes a node's outstanding persists durable (for nodes with autoPersist off). */
  flushDisk(id: ReplicaId, upTo = Number.MAX_SAFE_INTEGER): void {
    const node = this.node(id);
    if (!node.alive || node.unflushed.length === 0) return;
    this.makeDurable(node, Math.min(upTo, node.lastPersistId));
  }

  crash(id: ReplicaId): void {
    const node = this.node(id);
    node.alive = false;
    node.unflushed = [];
  }

  restart(id: ReplicaId): void {
    const node = this.node(id);
    node.trace = [];
    this.boot(node);
  }

  isolate(id: ReplicaId): void {
    for (let other = 0; other < this.nodes.length; other++) {
      if (other === id) continue;
      this.cut.add(`${id}>${other}`);
      this.cut.add(`${other}>${id}`);
    }
  }

  partition(...groups: ReplicaId[][]): void {
    for (const a of groups) {
      for (const b of groups) {
        if (a === b) continue;
        for (const x of a) for (const y of b) this.cut.add(`${x}>${y}`);
      }
    }
  }

  heal(): void {
    this.cut.clear();
  }

  /** Delivers one in-flight message (by position); returns it. */
  deliverAt(position: number): InFlight | undefined {
    const [m] = this.network.splice(position, 1);
    if (!m) return undefined;
    const to = this.node(m.to);
    if (!to.alive || this.cut.has(`${m.from}>${m.to}`) || this.drop?.(m)) return m;
    this.delivered.push(m);
    this.step(m.to, { type: "peer", from: m.from, msg: m.msg });
    return m;
  }

  /** Delivers messages (and those they cause) until the network is quiet. */
  deliverAll(limit = 100_000): void {
    for (let i = 0; i < limit && this.network.length > 0; i++) this.deliverAt(0);
    if (this.network.length > 0) throw new Error("network did not go quiet");
  }

  tick(id: ReplicaId): Output[] {
    const node = this.node(id);
    node.now += this.config.tickMs;
    return this.step(id, { type: "tick", now: node.now, mono: node.now });
  }

  /** Ticks every live node once and delivers everything; `rounds` times. */
  run(rounds: number): void {
    for (let r = 0; r < rounds; r++) {
      for (const node of this.nodes) if (node.alive) this.tick(node.id);
      this.deliverAll();
    }
  }

  /** Runs until `done` holds; fails after `limit` rounds. */
  runUntil(done: () => boolean, limit = 500): number {
    for (let r = 0; r < limit; r++) {
      if (done()) return r;
      this.run(1);
    }
    if (done()) return limit;
    throw new Error(`condition not reached in ${limit} rounds`);
  }

  /** The live leader with the highest term, if any. */
  leader(): ReplicaId | undefined {
    let best: ReplicaId | undefined;
    let term = -1;
    for (const node of this.nodes) {
      if (!node.alive) continue;
      const s = node.core.status();
      if (s.role === "leader" && s.term > term) {
        best = node.id;
        term = s.term;
      }
    }
    return best;
  }

  /** Runs until a leader exists that has committed (and handed out) an entry of its term. */
  elect(limit = 500): ReplicaId {
    this.runUntil(() => {
      const l = this.leader();
      if (l === undefined) return false;
      const term = this.status(l).term;
      return this.outputs(l, "apply").some((a) => a.entries.some((e) => e.term === term));
    }, limit);
    return this.leader()!;
  }

  /** The entry at `index` in the node's durable log (or undefined). */
  entryAt(id: ReplicaId, index: number): LogEntry | undefined {
    return this.node(id)
      .disk.build()
      .entries.find((e) => e.index === index);
  }

  /** A client message; `mono` is the node's monotonic clock when it arrives (default: its last tick). */
  client(id: ReplicaId, msg: ClientRequestMessage, mono = this.node(id).now): Output[] {
    return this.step(id, { type: "client", client: msg.client, msg, mono });
  }

  /** Registers a session (seq 0) at `at` and runs until its reply arrives. */
  openSession(at: ReplicaId, client: ClientId): void {
    this.client(at, { type: "request", client, seq: 0, ackedBelow: 0, cmd: null });
    this.runUntil(() =>
      this.repliesTo(client).some((r) => r.msg.type === "reply" && r.msg.seq === 0),
    );
  }

  repliesTo(client: ClientId): { from: ReplicaId; client: ClientId; msg: ClientReplyMessage }[] {
    return this.replies.filter((r) => r.client === client);
  }

  /** Sends a command and runs until answered; returns the reply. */
  command(
    at: ReplicaId,
    client: ClientId,
    seq: number,
    cmd: Value,
    ackedBelow = seq,
  ): ClientReplyMessage {
    const before = this.replies.length;
    this.client(at, { type: "request", client, seq, ackedBelow, cmd });
    this.runUntil(() =>
      this.replies
        .slice(before)
        .some((r) => r.client === client && r.msg.type === "reply" && r.msg.seq === seq),
    );
    return this.replies
      .slice(before)
      .find((r) => r.client === client && r.msg.type === "reply" && r.msg.seq === seq)!.msg;
  }

  /** Outputs of a node's trace of one type. */
  outputs<T extends Output["type"]>(id: ReplicaId, type: T): Extract<Output, { type: T }>[] {
    return this.node(id).trace.filter((o): o is Extract<Output, { type: T }> => o.type === type);
  }
}

/** A log entry for crafted disks. */
export function entry(
  index: number,
  term: number,
  payload: LogEntry["payload"] = { type: "noop" },
): LogEntry {
  return { index, term, time: 0, seed: 0, payload };
}

export function disk(term: number, vote: number | null, entries: LogEntry[]): DurableState {
  return { hardState: { term, vote }, snapshot: undefined, entries, records: new Map() };
}

/** Creates a single core for tests that feed inputs by hand. */
export function soloCore(
  id: ReplicaId,
  n: number,
  options: {
    settings?: { [key: string]: Value };
    durable?: DurableState;
    bug?: RaftPlantedBug;
    seed?: number;
  } = {},
): RaftCore {
  const config = simulatedCluster("raft", n, Math.floor((n - 1) / 2), { ...options.settings });
  return new RaftCore(
    {
      id,
      config,
      random: createRandom(options.seed ?? 42),
      crypto: noCrypto,
      durable: options.durable ?? emptyDurableState,
    },
    options.bug,
  );
}

export function peer(from: ReplicaId, msg: RaftMessage): Input {
  return { type: "peer", from, msg };
}

export function sends(outputs: readonly Output[]): Extract<Output, { type: "send" }>[] {
  return outputs.filter((o): o is Extract<Output, { type: "send" }> => o.type === "send");
}

export function persists(outputs: readonly Output[]): Extract<Output, { type: "persist" }>[] {
  return outputs.filter((o): o is Extract<Output, { type: "persist" }> => o.type === "persist");
}
