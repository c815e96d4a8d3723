import { describe, expect, it } from "vitest";
import type { ClientReplyMessage, ClientRequestMessage } from "../../src/core/client-messages.js";
import type { CoreInput, CoreOutput, CoreStatus, ProtocolCore } from "../../src/core/protocol.js";
import { ReplicatedService } from "../../src/core/replicated-service.js";
import { maxCommandBytes } from "../../src/core/request-admission.js";
import { ReplicaNode } from "../../src/replica/replica-node.js";
import { kvService } from "../../src/state-machines/kv/index.js";

// Issue 10, bug 3: ReplicaNode refuses invalid and oversized commands before the core sees them,
// so they are never logged or replicated; valid ones and other messages pass untouched.

interface Wire {
  readonly peer: string;
  readonly request: ClientRequestMessage;
  readonly response: ClientReplyMessage;
}

class RecordingCore implements ProtocolCore<Wire> {
  readonly id = 0;
  readonly inputs: CoreInput<Wire>[] = [];
  step(input: CoreInput<Wire>): readonly CoreOutput<Wire>[] {
    this.inputs.push(input);
    return [];
  }
  status(): CoreStatus {
    return { role: "test", term: 0, leader: 0, commitIndex: 0, lastIndex: 0 };
  }
}

function node() {
  const core = new RecordingCore();
  const replies: ClientReplyMessage[] = [];
  const n = new ReplicaNode<Wire>(core, new ReplicatedService(kvService), {
    sendPeer: () => {},
    sendClient: (_client, msg) => replies.push(msg),
    persist: () => {},
  });
  const request = (msg: ClientRequestMessage) =>
    n.handle({ type: "client", client: "c", msg, mono: 0 });
  return { core, replies, request };
}

describe("ReplicaNode admission", () => {
  it("answers invalid and oversized commands and queries itself; the core never sees them", () => {
    const { core, replies, request } = node();
    request({ type: "request", client: "c", seq: 1, ackedBelow: 1, cmd: { op: "bogus" } });
    const big = { op: "put", key: "k", value: "x".repeat(maxCommandBytes) };
    request({ type: "request", client: "c", seq: 2, ackedBelow: 1, cmd: big });
    request({ type: "query", client: "c", qid: 3, q: { op: "nope" } });
    expect(core.inputs).toEqual([]);
    expect(replies.map((r) => [r.type, r.result.ok, !r.result.ok && r.result.error])).toEqual([
      ["reply", false, "invalid"],
      ["reply", false, "invalid"],
      ["queryReply", false, "invalid"],
    ]);
    expect(JSON.stringify(replies[1])).toMatch(/exceeds the limit/);
  });

  it("passes valid commands, session registration and admin requests to the core", () => {
    const { core, replies, request } = node();
    request({ type: "request", client: "c", seq: 0, ackedBelow: 0, cmd: null });
    request({
      type: "request",
      client: "c",
      seq: 1,
      ackedBelow: 1,
      cmd: { op: "put", key: "k", value: "v" },
    });
    request({ type: "query", client: "c", qid: 1, q: { op: "get", key: "k" } });
    request({ type: "admin", client: "c", aid: 1, admin: { op: "transfer", to: 1 } });
    expect(core.inputs.length).toBe(4);
    expect(replies).toEqual([]);
  });
});
