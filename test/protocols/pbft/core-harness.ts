/**
 * Four (or n) PbftCores driven by hand, for trace-style unit tests of the orchestrator. The
 * harness is a tiny driver: a FIFO network, a disk per replica (DurableStateBuilder) that becomes
 * durable when the test says so (or at once), a ReplicatedService per replica that carries out
 * `apply`, `query` and `takeSnapshot`, and a clock per replica. Every output a core makes is
 * printed as one line, so a test states exactly what a step must produce:
 *
 *   0->1 preprepare v=0 s=1 t=2000 [alice#0,alice#1]   a message (held: "(after #2)")
 *   0: persist#2 put cert/1 v=0 [alice#0,alice#1]       a persist output
 *   0: apply s=1 t=2000 seed=… [alice#0,alice#1]          an apply output
 *   0=>alice reply v=0 ts=1 full {"ok":true,"value":7}  a reply to a client
 *
 * Requests are named client#timestamp and batches by their requests (`[]` is the null request),
 * so digests never appear. Keys are real (fixtures.ts: Ed25519 and HMAC-SHA256).
 */
import { type ClusterConfig, simulatedCluster } from "../../../src/core/config.js";
import { toHex } from "../../../src/core/crypto.js";
import { DurableStateBuilder } from "../../../src/core/durable-state-builder.js";
import type { ClientId, ReplicaId } from "../../../src/core/ids.js";
import { createRandom } from "../../../src/core/prng.js";
import type { CoreInput, CoreOutput, DurableState, PersistOp } from "../../../src/core/protocol.js";
import { emptyDurableState, noLogRules } from "../../../src/core/protocol.js";
import { ReplicatedService } from "../../../src/core/replicated-service.js";
import type { Value } from "../../../src/core/value.js";
import { signRequest } from "../../../src/protocols/pbft/authenticator.js";
import { PbftCore } from "../../../src/protocols/pbft/core.js";
import type {
  Batch,
  Digest,
  PbftReplicaMessage,
  Reply,
  Request,
} from "../../../src/protocols/pbft/messages.js";
import type { PbftPlantedBug } from "../../../src/protocols/pbft/planted-bugs.js";
import { batchDigest, requestDigest } from "../../../src/protocols/pbft/signed-bytes.js";
import type { PbftWire } from "../../../src/protocols/pbft/wire.js";
import { kvService } from "../raft/harness.js";
import { type TestCluster, testCluster } from "./fixtures.js";

type Out = CoreOutput<PbftWire>;

export interface InFlight {
  readonly from: ReplicaId;
  readonly to: ReplicaId;
  readonly msg: PbftReplicaMessage;
}

export interface HarnessOptions {
  readonly n?: number;
  readonly settings?: { [key: string]: Value };
  /** Acknowledge every persist at once (default true); false: the test calls `flush`. */
  readonly autoPersist?: boolean;
  readonly bug?: PbftPlantedBug;
}

/** Milliseconds a replica's clock advances per tick. */
export const msPerTick = 1000;

export class PbftHarness {
  readonly n: number;
  readonly keys: TestCluster;
  readonly config: ClusterConfig;
  readonly cores: PbftCore[] = [];
  readonly services: ReplicatedService[] = [];
  readonly disks: DurableStateBuilder[] = [];
  /** Persist outputs not yet durable, per replica. */
  readonly unflushed: { id: number; ops: readonly PersistOp[] }[][] = [];
  readonly durableUpTo: number[] = [];
  /** Messages waiting for a persist (`after`) before they leave. */
  readonly held: { after: number; m: InFlight }[][] = [];
  network: InFlight[] = [];
  /** Replies each client received, in order. */
  readonly replies = new Map<ClientId, Reply[]>();
  /** Extra ms added to a replica's clock (skew). */
  readonly skew: number[] = [];
  readonly ticks: number[] = [];
  autoPersist: boolean;
  /** Replicas whose persists wait for `flush` even when autoPersist is on. */
  readonly manualPersist = new Set<ReplicaId>();
  private readonly names = new Map<string, string>();
  private lines: string[] = [];
  private readonly bug: PbftPlantedBug | undefined;

  constructor(options: HarnessOptions = {}) {
    this.n = options.n ?? 4;
    this.keys = testCluster(this.n);
    // Tentative execution is off unless a test turns it on: the traces written before it show
    // the committed path (core-tentative.test.ts shows the tentative one).
    this.config = simulatedCluster("pbft", this.n, Math.floor((this.n - 1) / 3), {
      tentativeExecution: false,
      ...options.settings,
    });
    this.autoPersist = options.autoPersist ?? true;
    this.bug = options.bug;
    for (let id = 0; id < this.n; id++) {
      this.disks.push(new DurableStateBuilder(noLogRules));
      this.unflushed.push([]);
      this.durableUpTo.push(0);
      this.held.push([]);
      this.skew.push(0);
      this.ticks.push(0);
      this.services.push(new ReplicatedService(kvService));
      this.cores.push(this.newCore(id, emptyDurableState));
    }
  }

  private newCore(id: ReplicaId, durable: DurableState): PbftCore {
    return new PbftCore(
      {
        id,
        config: this.config,
        random: createRandom(id + 1),
        crypto: this.keys.replica(id),
        durable,
      },
      this.bug,
    );
  }

  // ---- requests and names --------------------------------------------------------------------

  /** A signed request from `client`; op is a kv command, or a query when readOnly/query. */
  request(
    client: string,
    timestamp: number,
    value: Value,
    opts: {
      query?: boolean;
      readOnly?: boolean;
      ackedBelow?: number;
      /** Without the MAC authenticator a real client adds (signature only). */
      signatureOnly?: boolean;
    } = {},
  ): Request {
    const kind = opts.query || opts.readOnly ? "query" : "command";
    const r = signRequest(
      this.keys.client(client),
      {
        client,
        timestamp,
        ackedBelow: opts.ackedBelow ?? 0,
        readOnly: opts.readOnly ?? false,
        op: { kind, value },
      },
      opts.signatureOnly ? 0 : this.n,
    );
    this.names.set(toHex(requestDigest(this.keys.replica(0), r)), `${client}#${timestamp}`);
    return r;
  }

  /** A signed admin request (an access or membership change) from `client`. */
  adminRequest(client: string, timestamp: number, admin: Value): Request {
    const r = signRequest(this.keys.client(client), {
      client,
      timestamp,
      ackedBelow: 0,
      readOnly: false,
      op: { kind: "admin", value: admin },
    });
    this.names.set(toHex(requestDigest(this.keys.replica(0), r)), `${client}#${timestamp}`);
    return r;
  }

  /** The name of a batch: its requests in order. */
  batchName(b: Batch): string {
    const name = `[${b.requests.map((d) => this.names.get(toHex(d)) ?? `?${toHex(d).slice(0, 6)}`).join(",")}]`;
    this.names.set(`batch:${toHex(batchDigest(this.keys.replica(0), b))}`, name);
    return name;
  }

  digestName(d: Digest): string {
    return this.names.get(`batch:${toHex(d)}`) ?? `?${toHex(d).slice(0, 6)}`;
  }

  // ---- printing --------------------------------------------------------------------------------

  show(msg: PbftReplicaMessage): string {
    switch (msg.type) {
      case "request":
        return `request ${msg.client}#${msg.timestamp}${msg.readOnly ? " ro" : ""}`;
      case "preprepare":
        return `preprepare v=${msg.view} s=${msg.seq} t=${msg.batch.time} ${this.batchName(msg.batch)}${msg.inline.length ? ` inline=${msg.inline.length}` : ""}`;
      case "prepare":
        return `prepare v=${msg.view} s=${msg.seq} ${this.digestName(msg.digest)}`;
      case "commit":
        return `commit v=${msg.view} s=${msg.seq} ${this.digestName(msg.digest)}`;
      case "checkpoint":
        return `checkpoint s=${msg.seq} r=${msg.replica} state=${toHex(msg.stateDigest).slice(0, 6)}`;
      case "viewchange": {
        const certs = msg.prepared
          .map(
            (c) =>
              `s${c.prePrepare.seq}@v${c.prePrepare.view}${this.batchName(c.prePrepare.batch)}`,
          )
          .join(" ");
        return `viewchange v=${msg.view} ckpt=${msg.checkpoint.seq} prepared={${certs}}`;
      }
      case "newview": {
        const vcs = msg.viewChanges.map((v) => v.replica).join(",");
        const pps = msg.prePrepares.map((p) => `s${p.seq}${this.batchName(p.batch)}`).join(" ");
        return `newview v=${msg.view} vcs=${vcs} O={${pps}}`;
      }
      case "fetch":
        return `fetch s=${msg.seq} chunk=${msg.chunk}`;
      case "statechunk":
        return `statechunk s=${msg.seq} chunk=${msg.chunk}/${msg.chunks}`;
      case "fetchrequests":
        return `fetchrequests ${msg.digests.map((d) => this.names.get(toHex(d)) ?? "?").join(",")}`;
    }
  }

  private showOps(ops: readonly PersistOp[]): string {
    return ops
      .map((op) => {
        switch (op.type) {
          case "hardState":
            return `hardState ${JSON.stringify(op.state)}`;
          case "put": {
            const rec = op.value as unknown as {
              cert: { prePrepare: { view: number; seq: number; batch: Batch } };
              requests: unknown[];
            };
            const pp = rec.cert.prePrepare;
            return `put cert/${pp.seq} v=${pp.view} ${this.batchName(pp.batch)} bodies=${rec.requests.length}`;
          }
          case "delete":
            return `delete cert/${Number(op.key.slice(5))}`;
          case "snapshot":
            return `snapshot s=${op.meta.index} proof=${(op.meta.proof as { proof: unknown[] }).proof.length}`;
          default:
            return op.type;
        }
      })
      .join("; ");
  }

  private emit(line: string): void {
    this.lines.push(line);
  }

  /** Everything printed since the last call. */
  take(): string {
    const text = this.lines.join("\n");
    this.lines = [];
    return text;
  }

  // ---- driving ---------------------------------------------------------------------------------

  /** Feeds one input to replica `id` and carries out what it outputs (recursively for apply etc.). */
  step(id: ReplicaId, input: CoreInput<PbftWire>, indent = ""): void {
    const outs = this.cores[id]!.step(input);
    this.cores[id]!.assertInvariants();
    const follow: CoreInput<PbftWire>[] = [];
    for (const o of outs) this.carryOut(id, o, indent, follow);
    for (const f of follow) this.step(id, f, indent);
  }

  private carryOut(id: ReplicaId, o: Out, indent: string, follow: CoreInput<PbftWire>[]): void {
    switch (o.type) {
      case "send": {
        const m = { from: id, to: o.to, msg: o.msg };
        const wait = o.after > this.durableUpTo[id]!;
        this.emit(
          `${indent}${id}->${o.to} ${this.show(o.msg)}${wait ? ` (after #${o.after})` : ""}`,
        );
        if (wait) this.held[id]!.push({ after: o.after, m });
        else this.network.push(m);
        break;
      }
      case "reply": {
        const r = o.msg;
        const body = r.full ? JSON.stringify(r.result) : "digest";
        this.emit(
          `${indent}${id}=>${o.client} reply v=${r.view} ts=${r.timestamp} ${r.tentative ? "tentative " : ""}${r.full ? "full " : ""}${body}${r.tentative && o.after > this.durableUpTo[id]! ? ` (after #${o.after})` : ""}`,
        );
        const list = this.replies.get(o.client) ?? [];
        list.push(r);
        this.replies.set(o.client, list);
        break;
      }
      case "persist":
        this.emit(`${indent}${id}: persist#${o.id} ${this.showOps(o.ops)}`);
        this.unflushed[id]!.push({ id: o.id, ops: o.ops });
        if (this.autoPersist && !this.manualPersist.has(id)) follow.push(this.flushInput(id));
        break;
      case "apply": {
        // Like ReplicaNode: one `applied` per output; an entry the service has applied already
        // (tentatively) is only confirmed.
        const service = this.services[id]!;
        const results = [];
        for (const e of o.entries) {
          const names =
            e.payload.type === "commands"
              ? e.payload.commands.map((c) => `${c.client}#${c.seq}`).join(",")
              : "noop";
          const kind = o.tentative ? "apply(tentative)" : "apply";
          if (e.index <= service.appliedIndex) {
            this.emit(`${indent}${id}: confirm s=${e.index} ${names}`);
            continue;
          }
          this.emit(`${indent}${id}: ${kind} s=${e.index} t=${e.time} seed=${e.seed} ${names}`);
          results.push(...service.applyEntry(e));
        }
        // As the replica driver does: access changes and authorizations come back answered.
        const admin = service.takeAdminResults();
        follow.push(
          admin.length === 0
            ? { type: "applied", upTo: service.appliedIndex, results }
            : { type: "applied", upTo: service.appliedIndex, results, admin },
        );
        break;
      }
      case "query": {
        this.emit(`${indent}${id}: query ${o.client} q=${JSON.stringify(o.q)} at=${o.atIndex}`);
        const result = this.services[id]!.query(o.q);
        follow.push({ type: "queryDone", client: o.client, qid: o.qid, result });
        break;
      }
      case "takeSnapshot": {
        this.emit(`${indent}${id}: takeSnapshot s=${o.index}`);
        follow.push({ type: "snapshotTaken", index: o.index, data: this.services[id]!.snapshot() });
        break;
      }
      case "installSnapshot":
        this.emit(
          `${indent}${id}: installSnapshot s=${o.meta.index}${o.rollback ? " rollback" : ""}`,
        );
        this.services[id]!.restore(o.data);
        break;
      case "external":
        throw new Error("pbft made an external request");
    }
  }

  /** Makes every persist of `id` so far durable; returns the `persisted` input to feed. */
  private flushInput(id: ReplicaId): CoreInput<PbftWire> {
    const pending = this.unflushed[id]!;
    let upTo = this.durableUpTo[id]!;
    for (const p of pending) {
      for (const op of p.ops) this.disks[id]!.apply(op);
      upTo = p.id;
    }
    pending.length = 0;
    this.durableUpTo[id] = upTo;
    const stillHeld: { after: number; m: InFlight }[] = [];
    for (const h of this.held[id]!) {
      if (h.after <= upTo) this.network.push(h.m);
      else stillHeld.push(h);
    }
    this.held[id] = stillHeld;
    return { type: "persisted", upTo };
  }

  /** Makes replica `id`'s persists durable and tells it. */
  flush(id: ReplicaId): string {
    this.step(id, this.flushInput(id));
    return this.take();
  }

  /** One tick at each listed replica (all by default). */
  tick(ids: readonly ReplicaId[] = this.all(), times = 1): string {
    for (let t = 0; t < times; t++) {
      for (const id of ids) {
        this.ticks[id]!++;
        const now = this.ticks[id]! * msPerTick + this.skew[id]!;
        this.step(id, { type: "tick", now, mono: now });
      }
    }
    return this.take();
  }

  /** A client's request arrives at replica `id`. */
  client(id: ReplicaId, r: Request): string {
    this.step(id, { type: "client", client: r.client, msg: r, mono: 0 });
    return this.take();
  }

  /** A message arrives at `to` as if from `from` (channel-authenticated sender). */
  inject(from: ReplicaId, to: ReplicaId, msg: PbftReplicaMessage): string {
    this.show(msg); // names the batch it carries, for the lines it causes
    this.step(to, { type: "peer", from, msg });
    return this.take();
  }

  /**
   * Delivers in-flight messages in FIFO order, and what they cause, until the network is empty
   * (or `limit` deliveries). Each delivered message prints, then what its receiver output, indented.
   * `drop` filters messages out (printed with "dropped").
   */
  deliver(
    opts: {
      limit?: number;
      drop?: (m: InFlight) => boolean;
      quiet?: boolean;
      /** A Byzantine network or sender: replaces a message before it is delivered. */
      rewrite?: (m: InFlight) => InFlight;
    } = {},
  ): string {
    let count = 0;
    while (this.network.length > 0 && count < (opts.limit ?? 10_000)) {
      const sent = this.network.shift()!;
      const m = opts.rewrite ? opts.rewrite(sent) : sent;
      count++;
      if (opts.drop?.(m)) {
        if (!opts.quiet) this.emit(`${m.from}->${m.to} ${this.show(m.msg)} dropped`);
        continue;
      }
      if (!opts.quiet) this.emit(`${m.from}->${m.to} ${this.show(m.msg)}`);
      this.step(m.to, { type: "peer", from: m.from, msg: m.msg }, "  ");
    }
    if (count >= (opts.limit ?? 10_000) && opts.limit === undefined)
      throw new Error("the network does not go quiet");
    const text = this.take();
    return opts.quiet ? "" : text;
  }

  /** Removes in-flight messages matching `pred` (lost), returning how many. */
  lose(pred: (m: InFlight) => boolean): number {
    const before = this.network.length;
    this.network = this.network.filter((m) => !pred(m));
    return before - this.network.length;
  }

  /** Crashes replica `id` (unflushed persists and held messages are lost) and restarts it from its disk. */
  restart(id: ReplicaId): void {
    this.unflushed[id]!.length = 0;
    this.held[id]!.length = 0;
    this.network = this.network.filter((m) => m.to !== id);
    this.durableUpTo[id] = 0;
    const durable = this.disks[id]!.build();
    this.services[id] = new ReplicatedService(kvService);
    if (durable.snapshot) this.services[id]!.restore(durable.snapshot.data);
    this.cores[id] = this.newCore(id, durable);
  }

  status(ids: readonly ReplicaId[] = this.all()): string {
    return ids
      .map((id) => {
        const s = this.cores[id]!.status();
        const d = s.details as {
          stableCheckpoint: number;
          lowWaterMark: number;
          highWaterMark: number;
        };
        return `${id}: ${s.role} view=${s.term} primary=${s.leader ?? "-"} executed=${s.commitIndex} last=${s.lastIndex} stable=${d.stableCheckpoint} window=(${d.lowWaterMark},${d.highWaterMark}]`;
      })
      .join("\n");
  }

  drops(id: ReplicaId): Record<string, number> {
    return { ...this.cores[id]!.drops };
  }

  all(): ReplicaId[] {
    return [...Array(this.n).keys()];
  }
}

/** Trims a template literal written with indentation into the exact lines a step prints. */
export function trace(text: string): string {
  const lines = text.split("\n");
  while (lines.length > 0 && lines[0]!.trim() === "") lines.shift();
  while (lines.length > 0 && lines.at(-1)!.trim() === "") lines.pop();
  const indent = Math.min(
    ...lines.filter((l) => l.trim() !== "").map((l) => l.length - l.trimStart().length),
  );
  return lines.map((l) => l.slice(indent)).join("\n");
}
