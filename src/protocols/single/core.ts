import {
  accessPayload,
  accessRefusal,
  type ClientAccess,
  forbiddenCommand,
  isAccessChange,
} from "../../core/access.js";
import type { ClientRequestMessage } from "../../core/client-messages.js";
import type { ClientId, LogIndex } from "../../core/ids.js";
import type { LeaderClientWire } from "../../core/leader-client.js";
import { limits } from "../../core/limits.js";
import type { EntryPayload, LogEntry, LoggedCommand } from "../../core/log-entry.js";
import type { Random } from "../../core/prng.js";
import type {
  CoreInput,
  CoreOutput,
  CoreStatus,
  ProtocolCore,
  ReplicaOptions,
} from "../../core/protocol.js";
import { parseSingleSettings, type SingleSettings } from "./settings.js";

/** A single replica speaks only the leader-based client protocol; it has no peers. */
export type SingleWire = LeaderClientWire;

/** Deliberately broken variants, kept so tests can prove the simulator and checker catch them. */
export type SinglePlantedBug =
  /** Apply and acknowledge a command as soon as it is logged, before the log write is durable. */
  "ack-before-sync";

type Out = CoreOutput<SingleWire>;

/**
 * One replica and no fault tolerance: the baseline that shows what replication costs. A command
 * is logged, made durable, applied, and answered, in that order; a restart replays the log.
 */
export class SingleCore implements ProtocolCore<SingleWire> {
  readonly id = 0;
  private readonly settings: SingleSettings;
  private readonly random: Random;
  private lastIndex: LogIndex;
  private committed: LogIndex;
  private snapshotIndex: LogIndex;
  private lastTime = 0;
  private now = 0;
  private nextPersistId = 1;
  /** Entries written but not yet known durable, with the persist id that carries them. */
  private readonly unsynced: { id: number; entry: LogEntry }[] = [];
  /** Entries recovered from disk that still have to be applied after a restart. */
  private recovered: LogEntry[];
  /** Commands received since the last flush; they become one entry. */
  private batch: LoggedCommand[] = [];
  /** Requests received by this incarnation that still await their result. */
  private readonly awaiting = new Set<string>();
  private snapshotInFlight = false;
  /** What assertInvariants saw last time (it checks that they only grow). */
  private checkedCommitted = 0;
  private checkedTime = 0;

  constructor(
    options: ReplicaOptions,
    private readonly bug?: SinglePlantedBug,
  ) {
    if (options.id !== 0) throw new Error(`single: replica id must be 0, got ${options.id}`);
    this.settings = parseSingleSettings(options.config.settings);
    this.random = options.random;
    const durable = options.durable;
    this.snapshotIndex = durable.snapshot?.meta.index ?? 0;
    this.recovered = [...durable.entries];
    this.lastIndex = this.recovered.at(-1)?.index ?? this.snapshotIndex;
    // Every durable entry of a single replica is committed: nobody else could disagree.
    this.committed = this.snapshotIndex;
    this.lastTime = this.recovered.at(-1)?.time ?? durable.snapshot?.meta.time ?? 0;
  }

  /** Single's invariants; the simulator calls this after every step. */
  assertInvariants(): void {
    const fail = (what: string) => {
      throw new Error(`single invariant: ${what}`);
    };
    if (this.committed > this.lastIndex)
      fail(`commit index ${this.committed} beyond the last index ${this.lastIndex}`);
    if (this.snapshotIndex > this.committed)
      fail(`snapshot ${this.snapshotIndex} beyond the commit index ${this.committed}`);
    if (this.committed < this.checkedCommitted)
      fail(`commit index went back from ${this.checkedCommitted} to ${this.committed}`);
    if (this.lastTime < this.checkedTime)
      fail(`log time went back from ${this.checkedTime} to ${this.lastTime}`);
    if (this.awaiting.size > limits.singleAwaiting)
      fail(`${this.awaiting.size} awaiting requests exceed the limit ${limits.singleAwaiting}`);
    let previous: { id: number; index: number } | undefined;
    for (const { id, entry } of this.unsynced) {
      // Entries wait for durability in log order, each above what is committed (unless the
      // planted bug commits before the write is durable).
      if (this.bug === undefined && entry.index <= this.committed)
        fail(`entry ${entry.index} awaits durability but is already committed`);
      if (previous && (id <= previous.id || entry.index !== previous.index + 1))
        fail(`unsynced entries out of order at ${entry.index}`);
      previous = { id, index: entry.index };
    }
    if (previous && previous.index !== this.lastIndex)
      fail(`last unsynced entry ${previous.index} is not the last index ${this.lastIndex}`);
    this.checkedCommitted = this.committed;
    this.checkedTime = this.lastTime;
  }

  status(): CoreStatus {
    return {
      role: "leader",
      term: 1,
      leader: 0,
      commitIndex: this.committed,
      lastIndex: this.lastIndex,
    };
  }

  step(input: CoreInput<SingleWire>): readonly Out[] {
    const out: Out[] = [];
    if (this.recovered.length > 0) this.replayRecovered(out);
    switch (input.type) {
      case "tick":
        this.now = Math.max(this.now, input.now);
        break;
      case "client":
        this.onClient(input.client, input.msg, input.access, out);
        break;
      case "persisted":
        this.onPersisted(input.upTo, out);
        break;
      case "applied":
        for (const r of input.results) {
          const key = `${r.client}#${r.seq}`;
          if (!this.awaiting.delete(key)) continue;
          out.push({
            type: "reply",
            client: r.client,
            msg: { type: "reply", client: r.client, seq: r.seq, result: r.result },
            after: 0,
          });
        }
        for (const r of input.admin ?? []) {
          if (!this.awaiting.delete(`admin:${r.client}#${r.aid}`)) continue;
          out.push({
            type: "reply",
            client: r.client,
            msg: { type: "adminReply", client: r.client, aid: r.aid, result: r.result },
            after: 0,
          });
        }
        this.maybeSnapshot(out);
        break;
      case "queryDone":
        out.push({
          type: "reply",
          client: input.client,
          msg: { type: "queryReply", client: input.client, qid: input.qid, result: input.result },
          after: 0,
        });
        break;
      case "snapshotTaken":
        this.snapshotInFlight = false;
        if (input.index > this.snapshotIndex) {
          this.snapshotIndex = input.index;
          out.push({
            type: "persist",
            id: this.nextPersistId++,
            ops: [
              {
                type: "snapshot",
                // lastTime ≥ the time of the entry at input.index: time stays monotonic across a restart.
                meta: { index: input.index, config: null, time: this.lastTime },
                data: input.data,
              },
            ],
          });
        }
        break;
      case "peer":
        break; // a single replica has no peers; the schema admits no peer message anyway
    }
    this.flush(out);
    return out;
  }

  private replayRecovered(out: Out[]): void {
    const entries = this.recovered;
    this.recovered = [];
    this.committed = entries.at(-1)!.index;
    out.push({ type: "apply", entries });
  }

  private onClient(
    client: ClientId,
    msg: ClientRequestMessage,
    access: ClientAccess | undefined,
    out: Out[],
  ): void {
    // Checked when ordered, and again by the service when applied (core/access.ts).
    const refusal = accessRefusal(msg, access);
    if (refusal) {
      out.push({ type: "reply", client, msg: refusal, after: 0 });
      return;
    }
    switch (msg.type) {
      case "request":
        if (
          this.awaiting.size >= limits.singleAwaiting &&
          !this.awaiting.has(`${client}#${msg.seq}`)
        ) {
          // Bounded: refuse rather than queue without end; nothing was logged, so the client
          // may retry the same seq later.
          out.push({
            type: "reply",
            client,
            msg: {
              type: "reply",
              client,
              seq: msg.seq,
              result: { ok: false, error: "busy", message: "too many requests in flight" },
            },
            after: 0,
          });
          break;
        }
        this.awaiting.add(`${client}#${msg.seq}`);
        this.batch.push(
          forbiddenCommand(msg, access)
            ? { client, seq: msg.seq, ackedBelow: msg.ackedBelow, cmd: null, forbidden: true }
            : { client, seq: msg.seq, ackedBelow: msg.ackedBelow, cmd: msg.cmd },
        );
        if (this.batch.length >= this.settings.maxBatchCommands) this.flush(out);
        break;
      case "query":
        // Every acknowledged command is applied by the time the query runs at the commit index.
        out.push({ type: "query", client, qid: msg.qid, q: msg.q, atIndex: this.committed });
        break;
      case "admin":
        if (isAccessChange(msg.admin)) {
          const key = `admin:${client}#${msg.aid}`;
          if (this.awaiting.size >= limits.singleAwaiting || this.awaiting.has(key)) {
            if (!this.awaiting.has(key))
              out.push({
                type: "reply",
                client,
                msg: {
                  type: "adminReply",
                  client,
                  aid: msg.aid,
                  result: { ok: false, error: "busy", message: "too many requests in flight" },
                },
                after: 0,
              });
            break;
          }
          // Logged after the commands that came before it, in its own entry.
          this.flush(out);
          this.awaiting.add(key);
          this.append(accessPayload({ by: client, aid: msg.aid, change: msg.admin }), out);
          break;
        }
        out.push({
          type: "reply",
          client,
          msg: {
            type: "adminReply",
            client,
            aid: msg.aid,
            result: {
              ok: false,
              error: "invalid",
              message: "a single replica has no membership to change",
            },
          },
          after: 0,
        });
        break;
    }
  }

  /** Turns the pending batch into one entry and asks for it to be made durable. */
  private flush(out: Out[]): void {
    if (this.batch.length === 0) return;
    const commands = this.batch;
    this.batch = [];
    this.append({ type: "commands", commands }, out);
  }

  /** Logs one entry and asks for it to be made durable. */
  private append(payload: EntryPayload, out: Out[]): void {
    this.lastTime = Math.max(this.lastTime, this.now);
    const entry: LogEntry = {
      index: ++this.lastIndex,
      term: 1,
      time: this.lastTime,
      seed: this.random.u32(),
      payload,
    };
    const id = this.nextPersistId++;
    out.push({ type: "persist", id, ops: [{ type: "append", entries: [entry] }] });
    if (this.bug === "ack-before-sync") {
      this.commit(entry.index);
      out.push({ type: "apply", entries: [entry] });
      return;
    }
    this.unsynced.push({ id, entry });
  }

  private onPersisted(upTo: number, out: Out[]): void {
    const ready: LogEntry[] = [];
    while (this.unsynced.length > 0 && this.unsynced[0]!.id <= upTo)
      ready.push(this.unsynced.shift()!.entry);
    if (ready.length === 0) return;
    this.commit(ready.at(-1)!.index);
    out.push({ type: "apply", entries: ready });
  }

  private commit(index: LogIndex): void {
    if (index < this.committed)
      throw new Error(`single: commit index would go back from ${this.committed} to ${index}`);
    this.committed = index;
  }

  private maybeSnapshot(out: Out[]): void {
    const every = this.settings.snapshotEvery;
    if (every === 0 || this.snapshotInFlight) return;
    if (this.committed - this.snapshotIndex >= every) {
      this.snapshotInFlight = true;
      out.push({ type: "takeSnapshot", index: this.committed });
    }
  }
}
