import { describe, expect, it } from "vitest";
import type { Value } from "../../../src/core/value.js";
import type { Request } from "../../../src/protocols/pbft/messages.js";
import { PbftHarness } from "./core-harness.js";

/**
 * A membership change is carried out at most once (docs/protocols/pbft.md, "Reconfiguration"):
 * its authorization is recorded in the client's session, and the same request ordered again
 * (here a retry that reached a backup, which forwards it to the primary, which orders it) is
 * answered from there. K = 2, L = 4, as in core-reconfig.test.ts.
 */
const small = {
  checkpointInterval: 2,
  windowSize: 4,
  requestTimeoutTicks: 10,
  viewChangeTicks: 10,
  maxInFlight: 8,
};

function run(h: PbftHarness, rounds: number): string {
  let text = "";
  for (let i = 0; i < rounds; i++) {
    text += h.deliver();
    h.tick();
  }
  return text + h.deliver();
}

const replies = (text: string) =>
  text
    .split("\n")
    .filter((l) => l.includes("=>alice reply"))
    .map((l) => l.trim());

function membership(h: PbftHarness, id: number): Value {
  const d = h.cores[id]!.status().details as {
    members: Value;
    membershipEpoch: Value;
    pendingMembers?: Value;
  };
  return { epoch: d.membershipEpoch, members: d.members, pending: d.pendingMembers ?? null };
}

/** Members 0–3, alice's session open, then alice#1 adds replica 4 and the change takes effect. */
function addedReplicaFour(): { h: PbftHarness; add: Request } {
  const h = new PbftHarness({ n: 5, settings: { ...small, members: [0, 1, 2, 3] } });
  h.tick();
  h.client(0, h.request("alice", 0, null));
  h.tick([0]);
  h.deliver({ quiet: true });
  const add = h.adminRequest("alice", 1, { op: "add", replica: 4 });
  h.client(0, add);
  h.tick([0]);
  run(h, 30);
  return { h, add };
}

describe("PbftCore: a membership change ordered twice", () => {
  it("an old add ordered again after a remove does not bring the removed replica back", () => {
    const { h, add } = addedReplicaFour();
    h.client(1, h.adminRequest("alice", 2, { op: "remove", replica: 4 }));
    h.tick([1]);
    run(h, 40);
    expect(membership(h, 0)).toEqual({ epoch: 2, members: [0, 1, 2, 3], pending: null });

    // The add, late: replica 2 forwards it, the primary orders it again.
    h.client(2, add);
    const text = run(h, 30);
    expect(text).toMatch(/preprepare v=\d+ s=\d+ t=\d+ \[alice#1\]/);
    // Every member answers with its first answer; replica 4, a spare again, answers nothing.
    expect(replies(text).filter((l) => l.includes(" ts=1 "))).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^[0-3]=>alice reply v=\d+ ts=1 full \{"ok":true,"value":\{"members":\[0,1,2,3,4\],"boundary":6\}\}$/,
        ),
      ]),
    );
    for (const id of [0, 1, 2, 3])
      expect(membership(h, id)).toEqual({ epoch: 2, members: [0, 1, 2, 3], pending: null });
    expect(h.cores[4]!.status().role).toBe("spare");
  });

  it("a repeat on a replica that no longer has its first answer is refused, not carried out", () => {
    const { h, add } = addedReplicaFour();
    // Replica 4 joined by state transfer: the session table came with the state, the replies
    // of the others did not.
    h.client(2, add);
    const again = replies(run(h, 30)).filter((l) => l.includes(" ts=1 "));
    expect(again).toContain(
      `4=>alice reply v=65536 ts=1 full {"ok":false,"error":"invalid","message":"pbft: membership change alice#1 was ordered before; it is not carried out again"}`,
    );
    expect(again.filter((l) => l.includes('"boundary":6'))).toHaveLength(4);
    expect(membership(h, 4)).toEqual({ epoch: 1, members: [0, 1, 2, 3, 4], pending: null });
  });
});
