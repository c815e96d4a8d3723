import { describe, expect, it } from "vitest";
import type { Value } from "../../../src/core/value.js";
import { makeReply } from "../../../src/protocols/pbft/authenticator.js";
import { ReplyVoter } from "../../../src/protocols/pbft/client-voter.js";
import type { Reply } from "../../../src/protocols/pbft/messages.js";
import { type TestCluster, testCluster } from "./fixtures.js";

interface ReplySpec {
  readonly from: number;
  readonly result: Value;
  readonly tentative?: boolean;
  readonly full?: boolean;
  readonly view?: number;
  readonly timestamp?: number;
}

function reply(c: TestCluster, s: ReplySpec): Reply {
  return makeReply(
    c.replica(Math.min(s.from, c.n - 1)),
    {
      view: s.view ?? 0,
      timestamp: s.timestamp ?? 7,
      client: "alice",
      replica: s.from,
      tentative: s.tentative ?? false,
    },
    s.result,
    s.full ?? true,
  );
}

/** Feeds replies in order; each row shows the refusal or the outcome after it. */
function trace(c: TestCluster, voter: ReplyVoter, rows: readonly (readonly [ReplySpec, string])[]) {
  const got = rows.map(([spec]) => {
    const added = voter.add(reply(c, spec));
    if (!added.accepted) return `refused ${added.reason}`;
    const o = voter.outcome();
    if (o.status === "decided") {
      return `decided ${JSON.stringify(o.result)}${o.viaTentative ? " (tentative)" : ""}`;
    }
    return o.status;
  });
  expect(got).toEqual(rows.map(([, expected]) => expected));
}

describe("ordered requests, n = 4 (f = 1)", () => {
  const c = testCluster(4);
  const ordered = () => new ReplyVoter(c.q, { client: "alice", timestamp: 7, readOnly: false });

  it("f+1 matching committed replies decide; the first reply alone does not", () => {
    trace(c, ordered(), [
      [{ from: 0, result: "ok" }, "pending"],
      [{ from: 1, result: "ok" }, 'decided "ok"'],
    ]);
  });

  it("a faulty replica's different result is outvoted", () => {
    trace(c, ordered(), [
      [{ from: 3, result: "evil" }, "pending"],
      [{ from: 0, result: "ok" }, "pending"],
      [{ from: 1, result: "ok" }, 'decided "ok"'],
    ]);
  });

  it("a replica repeating itself counts once", () => {
    trace(c, ordered(), [
      [{ from: 3, result: "evil" }, "pending"],
      [{ from: 3, result: "evil" }, "refused duplicate"],
      [{ from: 3, result: "evil", full: false }, "refused duplicate"],
    ]);
    expect(ordered().outcome().status).toBe("pending");
  });

  it("a faulty replica cannot vote twice by changing its answer", () => {
    trace(c, ordered(), [
      [{ from: 3, result: "evil" }, "pending"],
      [{ from: 3, result: "evil2" }, "pending"],
      [{ from: 0, result: "evil" }, "pending"], // r3's first vote was replaced
    ]);
  });

  it("replies from non-replicas and for other requests are refused", () => {
    trace(c, ordered(), [
      [{ from: 4, result: "ok" }, "refused not-a-replica"],
      [{ from: 0, result: "ok", timestamp: 6 }, "refused wrong-request"],
    ]);
  });

  it("tentative replies need 2f+1 matching; f+1 committed ones suffice", () => {
    trace(c, ordered(), [
      [{ from: 0, result: "ok", tentative: true }, "pending"],
      [{ from: 1, result: "ok", tentative: true }, "pending"], // f+1 tentative: not enough
      [{ from: 2, result: "ok", tentative: true }, 'decided "ok" (tentative)'],
    ]);
    trace(c, ordered(), [
      [{ from: 0, result: "ok", tentative: true }, "pending"],
      [{ from: 1, result: "ok" }, "pending"], // one committed + one tentative
      [{ from: 0, result: "ok" }, 'decided "ok"'], // r0 now committed too: f+1 committed
    ]);
  });

  it("tentative replies count together only from one view; committed ones join any view", () => {
    // 2f+1 tentative replies from two views prove no view prepared the batch at f+1 correct
    // replicas: it may have been rolled back in view 1 and be undone again.
    trace(c, ordered(), [
      [{ from: 0, result: "ok", tentative: true, view: 0 }, "pending"],
      [{ from: 1, result: "ok", tentative: true, view: 1 }, "pending"],
      [{ from: 2, result: "ok", tentative: true, view: 1 }, "pending"],
      [{ from: 3, result: "ok", tentative: true, view: 1 }, 'decided "ok" (tentative)'],
    ]);
    // A replica's tentative reply from a later view replaces its earlier one (a retransmitted
    // request executed again after a view change): the votes then meet in that view.
    trace(c, ordered(), [
      [{ from: 0, result: "ok", tentative: true, view: 0 }, "pending"],
      [{ from: 1, result: "ok", tentative: true, view: 0 }, "pending"],
      [{ from: 2, result: "ok", tentative: true, view: 4 }, "pending"],
      [{ from: 0, result: "ok", tentative: true, view: 4 }, "pending"],
      [{ from: 0, result: "ok", tentative: true, view: 4 }, "refused duplicate"],
      [{ from: 1, result: "ok", tentative: true, view: 4 }, 'decided "ok" (tentative)'],
    ]);
    // A committed reply is final in any view: with 2f tentative ones of one view it makes 2f+1.
    trace(c, ordered(), [
      [{ from: 0, result: "ok", tentative: true, view: 1 }, "pending"],
      [{ from: 1, result: "ok", tentative: true, view: 1 }, "pending"],
      [{ from: 2, result: "ok", view: 0 }, 'decided "ok" (tentative)'],
    ]);
  });

  it("digest replies: the vote needs one full result matching the winning digest", () => {
    trace(c, ordered(), [
      [{ from: 1, result: "ok", full: false }, "pending"],
      [{ from: 2, result: "ok", full: false }, "need-full-result"],
      [{ from: 3, result: "evil", full: true }, "need-full-result"],
      [{ from: 0, result: "ok", full: true }, 'decided "ok"'],
    ]);
  });

  it("a digest reply followed by the same replica's full result is taken for the result", () => {
    trace(c, ordered(), [
      [{ from: 1, result: "ok", full: false }, "pending"],
      [{ from: 2, result: "ok", full: false }, "need-full-result"],
      [{ from: 2, result: "ok", full: true }, 'decided "ok"'],
    ]);
  });

  it("learns the view that f+1 replicas report, not a single liar's", () => {
    const voter = ordered();
    voter.add(reply(c, { from: 3, result: "ok", view: 99 }));
    expect(voter.learnedView()).toBeUndefined();
    voter.add(reply(c, { from: 0, result: "ok", view: 4 }));
    voter.add(reply(c, { from: 1, result: "ok", view: 5 }));
    expect(voter.learnedView()).toBe(5);
  });
});

describe("read-only requests, n = 4", () => {
  const c = testCluster(4);
  const readOnly = () => new ReplyVoter(c.q, { client: "alice", timestamp: 7, readOnly: true });

  it("need 2f+1 matching replies: f+1 are not enough", () => {
    trace(c, readOnly(), [
      [{ from: 0, result: 1 }, "pending"],
      [{ from: 1, result: 1 }, "pending"],
      [{ from: 2, result: 1 }, "decided 1"],
    ]);
  });

  it("report a conflict once 2f+1 matching replies can no longer come", () => {
    trace(c, readOnly(), [
      [{ from: 0, result: 1 }, "pending"],
      [{ from: 1, result: 2 }, "pending"], // 1 could still get r2 and r3
      [{ from: 2, result: 3 }, "conflict"],
    ]);
  });
});

describe("n = 7 (f = 2)", () => {
  const c = testCluster(7);
  it("ordered: 2 matching committed replies are f, not enough; 3 are", () => {
    trace(c, new ReplyVoter(c.q, { client: "alice", timestamp: 7, readOnly: false }), [
      [{ from: 0, result: "ok" }, "pending"],
      [{ from: 1, result: "ok" }, "pending"],
      [{ from: 2, result: "ok" }, 'decided "ok"'],
    ]);
  });

  it("read-only: 4 matching are not enough, 5 are", () => {
    trace(
      c,
      new ReplyVoter(c.q, { client: "alice", timestamp: 7, readOnly: true }),
      [0, 1, 2, 3, 4].map(
        (r) => [{ from: r, result: "v" }, r === 4 ? 'decided "v"' : "pending"] as const,
      ),
    );
  });
});

describe("dissenters: the replicas out-voted by the decision", () => {
  const c = testCluster(4);

  it("names the replicas whose result lost, and only them", () => {
    const voter = new ReplyVoter(c.q, { client: "alice", timestamp: 7, readOnly: false });
    for (const [from, result] of [
      [3, "evil"],
      [0, "ok"],
      [1, "ok"],
    ] as const) {
      voter.add(reply(c, { from, result }));
    }
    const outcome = voter.outcome();
    expect(outcome.status).toBe("decided");
    if (outcome.status !== "decided") return;
    expect(voter.dissenters(outcome.resultDigest)).toEqual([3]);
  });
});
