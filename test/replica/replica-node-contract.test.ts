import { describe, expect, it } from "vitest";
import type { ClientReplyMessage, ClientRequestMessage } from "../../src/core/client-messages.js";
import { limits } from "../../src/core/limits.js";
import type {
  CoreInput,
  CoreOutput,
  CoreStatus,
  ExternalHandler,
  PersistOp,
  ProtocolCore,
} from "../../src/core/protocol.js";
import { ReplicatedService } from "../../src/core/replicated-service.js";
import {
  type ReplicaEnvironment,
  ReplicaNode,
  runExternal,
} from "../../src/replica/replica-node.js";
import { kvService } from "../../src/state-machines/kv/index.js";

/** A protocol that asks an arbiter: test-and-set on a key, answered granted or not. */
interface Wire {
  readonly peer: string;
  readonly request: ClientRequestMessage;
  readonly response: ClientReplyMessage;
  readonly external: {
    readonly request: { readonly op: "tas"; readonly key: string };
    readonly answer: { readonly granted: boolean };
  };
}
type In = CoreInput<Wire>;
type Out = CoreOutput<Wire>;

class ScriptedCore implements ProtocolCore<Wire> {
  readonly id = 0;
  readonly inputs: In[] = [];
  constructor(private readonly react: (input: In) => Out[]) {}
  step(input: In): readonly Out[] {
    this.inputs.push(input);
    return this.react(input);
  }
  status(): CoreStatus {
    return { role: "test", term: 0, leader: 0, commitIndex: 0, lastIndex: 0 };
  }
  externalAnswers() {
    return this.inputs.flatMap((i) => (i.type === "external" ? [i] : []));
  }
}

class Env implements ReplicaEnvironment<Wire> {
  readonly peers: string[] = [];
  readonly asked: { id: number; request: Wire["external"]["request"] }[] = [];
  external?: (id: number, request: Wire["external"]["request"]) => void;
  sendPeer(_to: number, msg: string): void {
    this.peers.push(msg);
  }
  sendClient(): void {}
  persist(_id: number, _ops: readonly PersistOp[]): void {}
}

const askOnTick = (id: number, key = "epoch-1"): ((input: In) => Out[]) => {
  return (input) =>
    input.type === "tick" ? [{ type: "external", id, request: { op: "tas", key } }] : [];
};

/** An in-memory test-and-set arbiter: the first asker of a key wins it. */
class Arbiter implements ExternalHandler<Wire["external"]["request"], Wire["external"]["answer"]> {
  private readonly owners = new Map<string, number>();
  call(from: number, request: Wire["external"]["request"]) {
    const owner = this.owners.get(request.key) ?? from;
    this.owners.set(request.key, owner);
    return { ok: true as const, answer: { granted: owner === from } };
  }
}

describe("ReplicaNode carries out a protocol's external requests", () => {
  it("hands the request to the environment and feeds the answer back with the same id", () => {
    const core = new ScriptedCore(askOnTick(7));
    const env = new Env();
    env.external = (id, request) => env.asked.push({ id, request });
    const node = new ReplicaNode<Wire>(core, new ReplicatedService(kvService), env);
    node.handle({ type: "tick", now: 0, mono: 0 });
    expect(env.asked).toEqual([{ id: 7, request: { op: "tas", key: "epoch-1" } }]);
    expect(node.pendingExternal).toBe(1);
    node.answer(7, { ok: true, answer: { granted: true } });
    expect(core.externalAnswers()).toEqual([
      { type: "external", id: 7, result: { ok: true, answer: { granted: true } } },
    ]);
    expect(node.pendingExternal).toBe(0);
    // A second (duplicate or late) answer for the same id is dropped.
    node.answer(7, { ok: true, answer: { granted: false } });
    node.answer(99, { ok: true, answer: { granted: false } });
    expect(core.externalAnswers()).toHaveLength(1);
  });

  it("with a real handler, two replicas asking the same arbiter: only the first is granted", () => {
    const arbiter = new Arbiter();
    const results: boolean[] = [];
    for (const replica of [0, 1]) {
      const core = new ScriptedCore(askOnTick(1));
      const env = new Env();
      const node = new ReplicaNode<Wire>(core, new ReplicatedService(kvService), env);
      env.external = (id, request) =>
        runExternal<Wire>(arbiter, replica, (result) => node.answer(id, result), request);
      node.handle({ type: "tick", now: 0, mono: 0 });
      const answer = core.externalAnswers()[0]!.result;
      results.push(answer.ok && answer.answer.granted);
    }
    expect(results).toEqual([true, false]);
  });

  it("an asynchronous handler answers later; a throwing or rejecting one answers ok: false", async () => {
    const core = new ScriptedCore(askOnTick(1));
    const env = new Env();
    const node = new ReplicaNode<Wire>(core, new ReplicatedService(kvService), env);
    env.external = (id, request) =>
      runExternal<Wire>(
        { call: async () => ({ ok: true, answer: { granted: true } }) },
        0,
        (result) => node.answer(id, result),
        request,
      );
    node.handle({ type: "tick", now: 0, mono: 0 });
    expect(core.externalAnswers()).toHaveLength(0);
    await Promise.resolve();
    await Promise.resolve();
    expect(core.externalAnswers()[0]?.result).toEqual({ ok: true, answer: { granted: true } });

    const failing = new ScriptedCore(askOnTick(2));
    const env2 = new Env();
    const node2 = new ReplicaNode<Wire>(failing, new ReplicatedService(kvService), env2);
    env2.external = (id, request) =>
      runExternal<Wire>(
        {
          call: () => {
            throw new Error("arbiter unreachable");
          },
        },
        0,
        (result) => node2.answer(id, result),
        request,
      );
    node2.handle({ type: "tick", now: 0, mono: 0 });
    expect(failing.externalAnswers()[0]?.result).toEqual({
      ok: false,
      error: "arbiter unreachable",
    });
  });

  it("without a handler, every external request is answered ok: false at once", () => {
    const core = new ScriptedCore(askOnTick(3));
    const node = new ReplicaNode<Wire>(core, new ReplicatedService(kvService), new Env());
    node.handle({ type: "tick", now: 0, mono: 0 });
    expect(core.externalAnswers()).toEqual([
      {
        type: "external",
        id: 3,
        result: { ok: false, error: "this driver has no handler for external requests" },
      },
    ]);
  });

  it("bounds the requests in flight: beyond the limit the core is answered ok: false", () => {
    let next = 0;
    const core = new ScriptedCore((input) =>
      input.type === "tick"
        ? Array.from({ length: limits.replicaExternalInFlight + 2 }, () => ({
            type: "external" as const,
            id: ++next,
            request: { op: "tas" as const, key: "k" },
          }))
        : [],
    );
    const env = new Env();
    env.external = (id, request) => env.asked.push({ id, request });
    const node = new ReplicaNode<Wire>(core, new ReplicatedService(kvService), env);
    node.handle({ type: "tick", now: 0, mono: 0 });
    expect(env.asked).toHaveLength(limits.replicaExternalInFlight);
    expect(node.dropped.external).toBe(2);
    expect(core.externalAnswers().map((a) => a.result.ok)).toEqual([false, false]);
  });
});

describe("ReplicaNode's queues are bounded", () => {
  it("drops (and counts) messages beyond the held-message limit", () => {
    const extra = 3;
    const core = new ScriptedCore((input) =>
      input.type === "tick"
        ? Array.from({ length: limits.replicaHeldMessages + extra }, (_, i) => ({
            type: "send" as const,
            to: 1,
            msg: `m${i}`,
            after: 1,
          }))
        : [],
    );
    const env = new Env();
    const node = new ReplicaNode<Wire>(core, new ReplicatedService(kvService), env);
    node.handle({ type: "tick", now: 0, mono: 0 });
    expect(node.heldMessages).toBe(limits.replicaHeldMessages);
    expect(node.dropped.held).toBe(extra);
    node.durable(1);
    expect(env.peers).toHaveLength(limits.replicaHeldMessages);
    expect(env.peers.at(-1)).toBe(`m${limits.replicaHeldMessages - 1}`);
  });

  it("answers queries beyond the waiting limit with busy at once", () => {
    const core = new ScriptedCore((input) =>
      input.type === "tick"
        ? Array.from({ length: limits.replicaWaitingQueries + 1 }, (_, qid) => ({
            type: "query" as const,
            client: "c",
            qid,
            q: { op: "get", key: "k" },
            atIndex: 5, // not applied yet: they wait
          }))
        : [],
    );
    const node = new ReplicaNode<Wire>(core, new ReplicatedService(kvService), new Env());
    node.handle({ type: "tick", now: 0, mono: 0 });
    const done = core.inputs.filter((i) => i.type === "queryDone");
    expect(done).toEqual([
      {
        type: "queryDone",
        client: "c",
        qid: limits.replicaWaitingQueries,
        result: { ok: false, error: "busy", message: "too many queries waiting" },
      },
    ]);
    expect(node.dropped.queries).toBe(1);
  });

  it("stops a core that feeds itself without end instead of looping forever", () => {
    // Every answered query makes the core ask another: an endless self-feeding loop.
    const core = new ScriptedCore((input) =>
      input.type === "tick" || input.type === "queryDone"
        ? [{ type: "query", client: "c", qid: 0, q: { op: "get", key: "k" }, atIndex: 0 }]
        : [],
    );
    const node = new ReplicaNode<Wire>(core, new ReplicatedService(kvService), new Env());
    expect(() => node.handle({ type: "tick", now: 0, mono: 0 })).toThrow(
      /feeds itself without end/,
    );
  });
});
