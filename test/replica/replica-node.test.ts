import { describe, expect, it } from "vitest";
import type { ClientReplyMessage, ClientRequestMessage } from "../../src/core/client-messages.js";
import type { LogEntry, LoggedCommand } from "../../src/core/log-entry.js";
import type {
  CoreInput,
  CoreOutput,
  CoreStatus,
  PersistOp,
  ProtocolCore,
} from "../../src/core/protocol.js";
import { ReplicatedService } from "../../src/core/replicated-service.js";
import {
  type ReplicaEnvironment,
  ReplicaNode,
  type ReplicaObserver,
} from "../../src/replica/replica-node.js";
import { kvService } from "../../src/state-machines/kv/index.js";

interface Wire {
  readonly peer: string;
  readonly request: ClientRequestMessage;
  readonly response: ClientReplyMessage;
}
type In = CoreInput<Wire>;
type Out = CoreOutput<Wire>;

/** A core whose outputs the test scripts: `react` maps each input to outputs. */
class ScriptedCore implements ProtocolCore<Wire> {
  readonly id = 0;
  readonly inputs: In[] = [];
  constructor(private readonly react: (input: In, core: ScriptedCore) => Out[] = () => []) {}
  step(input: In): readonly Out[] {
    this.inputs.push(input);
    return this.react(input, this);
  }
  status(): CoreStatus {
    return { role: "test", term: 0, leader: 0, commitIndex: 0, lastIndex: 0 };
  }
}

type Event =
  | { kind: "peer"; to: number; msg: string }
  | { kind: "client"; client: string; msg: ClientReplyMessage }
  | { kind: "persist"; id: number; ops: readonly PersistOp[] };

class RecordingEnv implements ReplicaEnvironment<Wire> {
  readonly events: Event[] = [];
  onPersist: ((id: number) => void) | undefined;
  sendPeer(to: number, msg: string): void {
    this.events.push({ kind: "peer", to, msg });
  }
  sendClient(client: string, msg: ClientReplyMessage): void {
    this.events.push({ kind: "client", client, msg });
  }
  persist(id: number, ops: readonly PersistOp[]): void {
    this.events.push({ kind: "persist", id, ops });
    this.onPersist?.(id);
  }
  peers(): string[] {
    return this.events.flatMap((e) => (e.kind === "peer" ? [e.msg] : []));
  }
}

const put = (client: string, seq: number, key: string, value: string): LoggedCommand => ({
  client,
  seq,
  ackedBelow: 1,
  cmd: { op: "put", key, value },
});
const entry = (index: number, commands: LoggedCommand[]): LogEntry => ({
  index,
  term: 1,
  time: index * 10,
  seed: index,
  payload: { type: "commands", commands },
});
const open = (client: string): LoggedCommand => ({ client, seq: 0, ackedBelow: 0, cmd: null });

function setup(react: (input: In, core: ScriptedCore) => Out[], observer: ReplicaObserver = {}) {
  const core = new ScriptedCore(react);
  const service = new ReplicatedService(kvService);
  const env = new RecordingEnv();
  const node = new ReplicaNode<Wire>(core, service, env, observer);
  return { core, service, env, node };
}

describe("ReplicaNode holds messages until the persist they depend on is durable", () => {
  it("emits after-0 messages at once and holds the others until durable(after)", () => {
    const { env, node } = setup((input) =>
      input.type === "tick"
        ? [
            { type: "persist", id: 1, ops: [{ type: "hardState", state: 1 }] },
            { type: "persist", id: 2, ops: [{ type: "hardState", state: 2 }] },
            { type: "send", to: 1, msg: "now", after: 0 },
            { type: "send", to: 1, msg: "after-1", after: 1 },
            { type: "send", to: 2, msg: "after-2", after: 2 },
            { type: "send", to: 2, msg: "after-1b", after: 1 },
          ]
        : [],
    );
    node.handle({ type: "tick", now: 0, mono: 0 });
    expect(
      env.events.filter((e) => e.kind === "persist").map((e) => (e as { id: number }).id),
    ).toEqual([1, 2]);
    expect(env.peers()).toEqual(["now"]);
    expect(node.heldMessages).toBe(3);
    node.durable(1);
    expect(env.peers()).toEqual(["now", "after-1", "after-1b"]);
    expect(node.heldMessages).toBe(1);
    node.durable(2);
    expect(env.peers()).toEqual(["now", "after-1", "after-1b", "after-2"]);
    expect(node.heldMessages).toBe(0);
  });

  it("releases everything up to a later durable id at once and tells the core", () => {
    const { core, env, node } = setup((input) =>
      input.type === "tick"
        ? [
            {
              type: "reply",
              client: "c",
              msg: { type: "reply", client: "c", seq: 1, result: { ok: true, value: 1 } },
              after: 3,
            },
            { type: "send", to: 1, msg: "x", after: 2 },
          ]
        : [],
    );
    node.handle({ type: "tick", now: 0, mono: 0 });
    expect(env.events).toEqual([]);
    node.durable(5);
    expect(env.events.map((e) => e.kind)).toEqual(["client", "peer"]);
    expect(core.inputs.at(-1)).toEqual({ type: "persisted", upTo: 5 });
    // a stale or repeated durable report is ignored
    node.durable(4);
    node.durable(5);
    expect(core.inputs.filter((i) => i.type === "persisted")).toHaveLength(1);
    // once durable up to 5, messages depending on earlier persists go out at once
    const later = setup((input) =>
      input.type === "tick" ? [{ type: "send", to: 0, msg: "y", after: 5 }] : [],
    );
    later.node.durable(5);
    later.node.handle({ type: "tick", now: 1, mono: 1 });
    expect(later.env.peers()).toEqual(["y"]);
  });

  it("handles a storage that reports durability from inside persist (re-entrant)", () => {
    const { core, env, node } = setup((input) => {
      if (input.type === "tick") {
        return [
          { type: "persist", id: 1, ops: [] },
          { type: "send", to: 1, msg: "held", after: 1 },
        ];
      }
      if (input.type === "persisted")
        return [{ type: "send", to: 1, msg: "after-persisted", after: 0 }];
      return [];
    });
    env.onPersist = (id) => node.durable(id);
    node.handle({ type: "tick", now: 0, mono: 0 });
    // the "send" output was carried out after durable(1) already ran, so it goes straight out
    expect(env.peers()).toEqual(["held", "after-persisted"]);
    expect(core.inputs.map((i) => i.type)).toEqual(["tick", "persisted"]);
  });
});

describe("ReplicaNode drives the service", () => {
  it("applies entries in order, skips already-applied ones and reports results", () => {
    const e1 = entry(1, [open("a")]);
    const e2 = entry(2, [put("a", 1, "k", "v")]);
    const seen: number[] = [];
    const core = new ScriptedCore((input) =>
      input.type === "tick"
        ? [
            { type: "apply", entries: [e1, e2] },
            { type: "apply", entries: [e1, e2] },
          ]
        : [],
    );
    const service = new ReplicatedService(kvService);
    const node = new ReplicaNode<Wire>(core, service, new RecordingEnv(), {
      onApply: (e) => seen.push(e.index),
    });
    node.handle({ type: "tick", now: 0, mono: 0 });
    expect(seen).toEqual([1, 2]);
    expect(service.appliedIndex).toBe(2);
    const applied = core.inputs.filter((i) => i.type === "applied");
    expect(applied).toEqual([
      {
        type: "applied",
        upTo: 2,
        results: [
          { index: 1, client: "a", seq: 0, result: { ok: true, value: null } },
          { index: 2, client: "a", seq: 1, result: { ok: true, value: { ok: true, prev: null } } },
        ],
      },
      { type: "applied", upTo: 2, results: [] },
    ]);
  });

  it("runs a query only once the service has applied its index", () => {
    const queries: number[] = [];
    const { core, node } = setup(
      (input) => {
        if (input.type === "tick" && input.now === 0) {
          return [
            { type: "apply", entries: [entry(1, [open("a")])] },
            { type: "query", client: "a", qid: 7, q: { op: "get", key: "k" }, atIndex: 2 },
          ];
        }
        if (input.type === "tick" && input.now === 1) {
          return [{ type: "apply", entries: [entry(2, [put("a", 1, "k", "v2")])] }];
        }
        return [];
      },
      { onQuery: (_c, _q, at) => queries.push(at) },
    );
    node.handle({ type: "tick", now: 0, mono: 0 });
    expect(core.inputs.some((i) => i.type === "queryDone")).toBe(false);
    node.handle({ type: "tick", now: 1, mono: 1 });
    const done = core.inputs.filter((i) => i.type === "queryDone");
    expect(done).toEqual([
      {
        type: "queryDone",
        client: "a",
        qid: 7,
        result: { ok: true, value: { ok: true, value: "v2" } },
      },
    ]);
    expect(queries).toEqual([2]);
  });

  it("takes a snapshot at the requested index and refuses one at another index", () => {
    const { core, service, node } = setup((input) =>
      input.type === "tick"
        ? [
            { type: "apply", entries: [entry(1, [open("a")])] },
            { type: "takeSnapshot", index: input.now },
          ]
        : [],
    );
    node.handle({ type: "tick", now: 1, mono: 1 });
    const taken = core.inputs.find((i) => i.type === "snapshotTaken");
    expect(taken).toMatchObject({ type: "snapshotTaken", index: 1 });
    const copy = new ReplicatedService(kvService);
    copy.restore((taken as { data: Uint8Array }).data);
    expect(copy.appliedIndex).toBe(1);
    expect(service.appliedIndex).toBe(1);
    const other = setup((input) =>
      input.type === "tick" ? [{ type: "takeSnapshot", index: 3 }] : [],
    );
    expect(() => other.node.handle({ type: "tick", now: 0, mono: 0 })).toThrow(/takeSnapshot at 3/);
  });

  it("installs a snapshot and checks that it holds the index it claims", () => {
    const source = new ReplicatedService(kvService);
    source.applyEntry(entry(1, [open("a")]));
    source.applyEntry(entry(2, [put("a", 1, "k", "snap")]));
    const data = source.snapshot();
    const installed: number[] = [];
    const { service, node, core } = setup(
      (input) =>
        input.type === "tick"
          ? [
              { type: "query", client: "a", qid: 1, q: { op: "get", key: "k" }, atIndex: 2 },
              {
                type: "installSnapshot",
                meta: { index: input.now, protocol: { term: 1 }, config: null },
                data,
              },
            ]
          : [],
      { onInstallSnapshot: (m) => installed.push(m.index) },
    );
    node.handle({ type: "tick", now: 2, mono: 2 });
    expect(service.appliedIndex).toBe(2);
    expect(service.query({ op: "get", key: "k" })).toEqual({
      ok: true,
      value: { ok: true, value: "snap" },
    });
    expect(installed).toEqual([2]);
    // the waiting query ran against the installed state
    expect(core.inputs.find((i) => i.type === "queryDone")).toMatchObject({
      result: { ok: true, value: { ok: true, value: "snap" } },
    });
    expect(() => node.handle({ type: "tick", now: 5, mono: 5 })).toThrow(
      /claims index 5 but holds 2/,
    );
  });
});

describe("ReplicaNode carries out tentative entries (PBFT §5.1.2)", () => {
  /** A core that, on tick `now`, outputs what the test queued for that tick. */
  function scripted(byTick: Map<number, Out[]>) {
    const seen: string[] = [];
    const observer: ReplicaObserver = {
      onApply: (e, results) => seen.push(`committed ${e.index} results=${results.length}`),
      onTentativeApply: (e, results) => seen.push(`tentative ${e.index} results=${results.length}`),
      onRollback: (m, svc) => seen.push(`rollback to ${m.index} (service at ${svc.appliedIndex})`),
      onInstallSnapshot: (m) => seen.push(`install ${m.index}`),
    };
    const parts = setup(
      (input) => (input.type === "tick" ? (byTick.get(input.now) ?? []) : []),
      observer,
    );
    return { ...parts, seen };
  }

  it("a tentative entry is applied once; applying it again committed only reports it", () => {
    const e1 = entry(1, [open("a")]);
    const e2 = entry(2, [put("a", 1, "k", "v")]);
    const { node, service, core, seen } = scripted(
      new Map<number, Out[]>([
        [1, [{ type: "apply", entries: [e1] }]],
        [2, [{ type: "apply", entries: [e2], tentative: true }]],
        [3, [{ type: "apply", entries: [e2] }]],
      ]),
    );
    for (const now of [1, 2, 3]) node.handle({ type: "tick", now, mono: now });
    expect(seen).toEqual([
      "committed 1 results=1",
      "tentative 2 results=1",
      "committed 2 results=1",
    ]);
    expect(service.appliedIndex).toBe(2);
    // One `applied` per `apply` output; the confirmation executed nothing.
    const applied = core.inputs.filter((i) => i.type === "applied");
    expect(applied.map((a) => (a as { results: readonly unknown[] }).results.length)).toEqual([
      1, 1, 0,
    ]);
  });

  it("a rollback restores the committed snapshot; the tentative entry is never reported committed", () => {
    const e1 = entry(1, [open("a")]);
    const e2 = entry(2, [put("a", 1, "k", "tentative")]);
    const committed = new ReplicatedService(kvService);
    committed.applyEntry(e1);
    const snapshot = committed.snapshot();
    const other = entry(2, [put("a", 1, "k", "final")]);
    const { node, service, seen } = scripted(
      new Map<number, Out[]>([
        [1, [{ type: "apply", entries: [e1] }]],
        [2, [{ type: "apply", entries: [e2], tentative: true }]],
        [
          3,
          [
            {
              type: "installSnapshot",
              meta: { index: 1, config: null },
              data: snapshot,
              rollback: true,
            },
            { type: "apply", entries: [other] },
          ],
        ],
      ]),
    );
    for (const now of [1, 2, 3]) node.handle({ type: "tick", now, mono: now });
    expect(seen).toEqual([
      "committed 1 results=1",
      "tentative 2 results=1",
      "rollback to 1 (service at 1)",
      "committed 2 results=1",
    ]);
    expect(service.query({ op: "get", key: "k" })).toEqual({
      ok: true,
      value: { ok: true, value: "final" },
    });
  });
});
