import { describe, expect, it } from "vitest";
import {
  signCheckpoint,
  signNewView,
  signPrePrepare,
  signPrepare,
  signViewChange,
} from "../../../src/protocols/pbft/authenticator.js";
import { genesisCheckpoint } from "../../../src/protocols/pbft/checkpoints.js";
import type {
  Batch,
  CheckpointProof,
  NewView,
  PreparedCertificate,
  ViewChange,
} from "../../../src/protocols/pbft/messages.js";
import { batchDigest, nullBatch } from "../../../src/protocols/pbft/signed-bytes.js";
import {
  buildNewView,
  buildViewChange,
  planNewView,
  verifyNewView,
  verifyPreparedCertificate,
  verifyViewChange,
  viewChangeTimeout,
  viewToJoin,
} from "../../../src/protocols/pbft/view-change.js";
import { batchOf, certificate, digestOf, request, testCluster, zeros } from "./fixtures.js";

const c = testCluster(4);
const params = { quorums: c.q, interval: 8, genesisDigest: zeros, windowSize: 16 };
const crypto = c.replica(3);
const A = batchOf(c, 100, request(c, "alice", 1, "a"));
const B = batchOf(c, 101, request(c, "bob", 1, "b"));
const C = batchOf(c, 102, request(c, "alice", 2, "c"));
const X = batchOf(c, 50, request(c, "bob", 2, "x"));
const genesis = genesisCheckpoint(zeros);
const S8 = digestOf("state 8");
const stable8: CheckpointProof = {
  seq: 8,
  stateDigest: S8,
  proof: [0, 1, 2].map((r) =>
    signCheckpoint(c.replica(r), { seq: 8, stateDigest: S8, replica: r }),
  ),
};
const vc = (from: number, view: number, cp: CheckpointProof, certs: PreparedCertificate[]) =>
  buildViewChange(c.replica(from), from, view, cp, certs);
const reason = (v: { ok: boolean; reason?: string }) => (v.ok ? "ok" : v.reason);
const digest = (b: Batch) => batchDigest(crypto, b);

describe("prepared certificates", () => {
  const good = certificate(c, 0, 9, A);
  const pp = good.prePrepare;
  const prepares = good.prepares;
  const otherDigest = digestOf("other");

  it.each([
    ["a valid certificate (pre-prepare by r0, prepares by r1, r2)", good, "ok"],
    ["2f-1 prepares", { ...good, prepares: prepares.slice(0, 1) }, "too-few-prepares"],
    [
      "the same prepare twice",
      { ...good, prepares: [prepares[0]!, prepares[0]!] },
      "duplicate-or-unknown-prepare",
    ],
    ["a prepare from the primary", certificate(c, 0, 9, A, [0, 1]), "prepare-from-primary"],
    [
      "a prepare for another digest",
      {
        ...good,
        prepares: [
          prepares[0]!,
          signPrepare(c.replica(2), { view: 0, seq: 9, digest: otherDigest, replica: 2 }),
        ],
      },
      "prepare-mismatch",
    ],
    [
      "a prepare from another view",
      {
        ...good,
        prepares: [
          prepares[0]!,
          signPrepare(c.replica(2), { view: 1, seq: 9, digest: digest(A), replica: 2 }),
        ],
      },
      "prepare-mismatch",
    ],
    [
      "a pre-prepare signed by a backup",
      {
        ...good,
        prePrepare: signPrePrepare(c.replica(1), { view: 0, seq: 9, batch: A, replica: 1 }),
      },
      "not-from-primary",
    ],
    [
      "a pre-prepare whose batch was swapped",
      { ...good, prePrepare: { ...pp, batch: B } },
      "bad-pre-prepare-signature",
    ],
    [
      "a prepare with another replica's signature",
      { ...good, prepares: [prepares[0]!, { ...prepares[1]!, sig: prepares[0]!.sig }] },
      "bad-prepare-signature",
    ],
    [
      "piggybacked requests",
      { ...good, prePrepare: { ...pp, inline: [request(c, "alice", 1, "a")] } },
      "inline-requests",
    ],
  ])("%s: %s", (_name, cert, expected) => {
    expect(reason(verifyPreparedCertificate(crypto, params, cert))).toBe(expected);
  });
});

describe("VIEW-CHANGE", () => {
  it("built from the log's certificates, it verifies and keeps only those above the checkpoint", () => {
    const m = vc(1, 1, stable8, [certificate(c, 0, 3, X), certificate(c, 0, 9, A)]);
    expect(m.prepared.map((x) => x.prePrepare.seq)).toEqual([9]);
    expect(verifyViewChange(crypto, params, m)).toEqual({ ok: true });
  });

  const signed = (fields: Omit<ViewChange, "type" | "sig">) =>
    signViewChange(c.replica(fields.replica), fields);
  const base = { view: 1, replica: 1, checkpoint: stable8, prepared: [certificate(c, 0, 9, A)] };

  it.each([
    ["view 0", signed({ ...base, view: 0 }), "view-zero"],
    ["a stranger", { ...signed(base), replica: 7 }, "not-a-replica"],
    ["a certificate stripped by a forwarder", { ...signed(base), prepared: [] }, "bad-signature"],
    [
      "a checkpoint swapped by a forwarder",
      { ...signed(base), checkpoint: genesis },
      "bad-signature",
    ],
    [
      "a checkpoint proof with f+1 signatures",
      signed({ ...base, checkpoint: { ...stable8, proof: stable8.proof.slice(0, 2) } }),
      "bad-checkpoint-proof",
    ],
    [
      "a certificate at the checkpoint",
      signed({ ...base, prepared: [certificate(c, 0, 8, A)] }),
      "certificate-not-above-checkpoint",
    ],
    [
      "a certificate above h + L",
      signed({ ...base, prepared: [certificate(c, 0, 25, A)] }),
      "certificate-above-window",
    ],
    ["a certificate at h + L", signed({ ...base, prepared: [certificate(c, 0, 24, A)] }), "ok"],
    [
      "a certificate from the new view itself",
      signed({ ...base, prepared: [certificate(c, 1, 9, A)] }),
      "certificate-not-from-earlier-view",
    ],
    [
      "two certificates for one seq",
      signed({ ...base, prepared: [certificate(c, 0, 9, A), certificate(c, 0, 9, B)] }),
      "duplicate-certificate-seq",
    ],
    [
      "a forged certificate (one prepare)",
      signed({
        ...base,
        prepared: [
          { ...certificate(c, 0, 9, A), prepares: certificate(c, 0, 9, A).prepares.slice(1) },
        ],
      }),
      "certificate-too-few-prepares",
    ],
  ])("refuses %s: %s", (_name, m, expected) => {
    expect(reason(verifyViewChange(crypto, params, m))).toBe(expected);
  });

  it("names what was wrong with the checkpoint proof", () => {
    const m = signed({ ...base, checkpoint: { ...stable8, seq: 16 } });
    expect(verifyViewChange(crypto, params, m)).toEqual({
      ok: false,
      reason: "bad-checkpoint-proof",
      detail: "mismatch",
    });
  });
});

describe("the NEW-VIEW computation", () => {
  // r1: nothing stable, A prepared at 1 (below r2's checkpoint, so it does not matter).
  // r2: stable at 8; A prepared at 9 and B at 11, both in view 0. Nothing at 10.
  // r3: stable at 0; X prepared at 3 (below min-s).
  const V = [
    vc(1, 1, genesis, [certificate(c, 0, 1, A)]),
    vc(2, 1, stable8, [certificate(c, 0, 9, A), certificate(c, 0, 11, B)]),
    vc(3, 1, genesis, [certificate(c, 0, 3, X)]),
  ];
  const show = (batches: readonly { seq: number; batch: Batch }[]) =>
    batches.map(({ seq, batch }) => {
      const name = [A, B, C, X].indexOf(batch);
      return `${seq}:${batch === nullBatch ? "null" : "ABCX"[name]}`;
    });

  it("min-s = latest stable checkpoint, max-s = highest prepared; gaps become null requests", () => {
    const planned = planNewView(crypto, params, 1, V);
    if (!planned.ok) throw new Error(planned.reason);
    expect(planned.plan.checkpoint).toBe(stable8);
    expect([planned.plan.minS, planned.plan.maxS]).toEqual([8, 11]);
    expect(show(planned.plan.batches)).toEqual(["9:A", "10:null", "11:B"]);
  });

  it("for a seq prepared in several views, the certificate of the highest view wins", () => {
    const V2 = [
      vc(1, 2, stable8, [certificate(c, 0, 11, B)]),
      vc(2, 2, stable8, [certificate(c, 1, 11, C)]),
      vc(3, 2, stable8, []),
    ];
    const planned = planNewView(crypto, params, 2, V2);
    expect(planned.ok && show(planned.plan.batches)).toEqual(["9:null", "10:null", "11:C"]);
  });

  it("with no certificate above min-s there is nothing to re-issue", () => {
    const planned = planNewView(crypto, params, 1, [
      vc(1, 1, stable8, []),
      vc(2, 1, stable8, []),
      vc(3, 1, genesis, []),
    ]);
    expect(
      planned.ok && [planned.plan.minS, planned.plan.maxS, planned.plan.batches.length],
    ).toEqual([8, 8, 0]);
  });

  it.each([
    ["2f view-changes", V.slice(0, 2), "too-few-view-changes"],
    ["one sender twice", [V[0]!, V[1]!, V[1]!], "duplicate-or-unknown-sender"],
    ["a view-change for another view", [V[0]!, V[1]!, vc(3, 2, genesis, [])], "wrong-view"],
  ])("refuses %s", (_name, vcs, expected) => {
    expect(reason(planNewView(crypto, params, 1, vcs))).toBe(expected);
  });
});

describe("NEW-VIEW verification by backups", () => {
  const V = [
    vc(0, 1, genesis, []),
    vc(2, 1, stable8, [certificate(c, 0, 9, A), certificate(c, 0, 11, B)]),
    vc(3, 1, genesis, [certificate(c, 0, 3, X)]),
  ];
  const planned = planNewView(c.replica(1), params, 1, V);
  if (!planned.ok) throw new Error(planned.reason);
  const honest = buildNewView(c.replica(1), 1, planned.plan, V);

  /** What a faulty new primary (r1) can send: its own validly signed NEW-VIEW with chosen contents. */
  const lying = (
    batches: readonly { seq: number; batch: Batch }[],
    vcs: readonly ViewChange[] = V,
  ): NewView =>
    signNewView(c.replica(1), {
      view: 1,
      replica: 1,
      viewChanges: vcs,
      prePrepares: batches.map(({ seq, batch }) =>
        signPrePrepare(c.replica(1), { view: 1, seq, batch, replica: 1 }),
      ),
    });

  it("the new primary's NEW-VIEW verifies and yields the same plan", () => {
    const checked = verifyNewView(crypto, params, honest);
    expect(checked.ok && checked.plan).toEqual(planned.plan);
    expect(honest.prePrepares.map((p) => [p.view, p.seq, p.replica])).toEqual([
      [1, 9, 1],
      [1, 10, 1],
      [1, 11, 1],
    ]);
  });

  it.each([
    [
      "dropping a prepared request (null at 9)",
      lying([
        { seq: 9, batch: nullBatch },
        { seq: 10, batch: nullBatch },
        { seq: 11, batch: B },
      ]),
      "pre-prepares-differ",
    ],
    [
      "reordering prepared requests",
      lying([
        { seq: 9, batch: B },
        { seq: 10, batch: nullBatch },
        { seq: 11, batch: A },
      ]),
      "pre-prepares-differ",
    ],
    [
      "filling a gap with its own request",
      lying([
        { seq: 9, batch: A },
        { seq: 10, batch: C },
        { seq: 11, batch: B },
      ]),
      "pre-prepares-differ",
    ],
    [
      "leaving out the last one",
      lying([
        { seq: 9, batch: A },
        { seq: 10, batch: nullBatch },
      ]),
      "pre-prepares-differ",
    ],
    [
      "re-issuing below min-s",
      lying([
        { seq: 3, batch: X },
        { seq: 9, batch: A },
        { seq: 10, batch: nullBatch },
        { seq: 11, batch: B },
      ]),
      "pre-prepares-differ",
    ],
    ["only 2f view-changes", lying([], V.slice(0, 2)), "too-few-view-changes"],
    [
      "a view-change whose certificates it stripped (hiding a prepared request)",
      lying(
        [
          { seq: 9, batch: nullBatch },
          { seq: 10, batch: nullBatch },
          { seq: 11, batch: B },
        ],
        [V[0]!, { ...V[1]!, prepared: [V[1]!.prepared[1]!] }, V[2]!],
      ),
      "view-change-bad-signature",
    ],
    [
      "a view-change with a stale checkpoint proof made up by a faulty sender",
      lying([], [V[0]!, vc(2, 1, { ...stable8, proof: stable8.proof.slice(0, 1) }, []), V[2]!]),
      "view-change-bad-checkpoint-proof",
    ],
  ])("refuses a new primary %s", (_name, nv, expected) => {
    expect(reason(verifyNewView(crypto, params, nv))).toBe(expected);
  });

  it("refuses a NEW-VIEW from a replica that is not the view's primary", () => {
    const fromR2 = signNewView(c.replica(2), { ...honest, replica: 2 });
    expect(reason(verifyNewView(crypto, params, fromR2))).toBe("not-primary");
  });

  it("refuses a NEW-VIEW altered after signing", () => {
    const swapped = { ...honest, prePrepares: [...honest.prePrepares].reverse() };
    expect(reason(verifyNewView(crypto, params, swapped))).toBe("bad-signature");
  });

  it("refuses re-issued pre-prepares that are not the new primary's for the new view", () => {
    const foreign = signPrePrepare(c.replica(0), { view: 0, seq: 9, batch: A, replica: 0 });
    const withForeign = signNewView(c.replica(1), {
      ...honest,
      prePrepares: [foreign, ...honest.prePrepares.slice(1)],
    });
    expect(reason(verifyNewView(crypto, params, withForeign))).toBe("pre-prepare-not-from-primary");
    const forgedSig = { ...honest.prePrepares[0]!, sig: honest.prePrepares[1]!.sig };
    const withForged = signNewView(c.replica(1), {
      ...honest,
      prePrepares: [forgedSig, ...honest.prePrepares.slice(1)],
    });
    expect(reason(verifyNewView(crypto, params, withForged))).toBe("pre-prepare-bad-signature");
  });

  it("a new primary cannot prefer an older certificate over a newer one", () => {
    const W = [
      vc(0, 2, stable8, [certificate(c, 0, 9, A)]),
      vc(1, 2, stable8, [certificate(c, 1, 9, C)]),
      vc(3, 2, stable8, []),
    ];
    const prefersOld = signNewView(c.replica(2), {
      view: 2,
      replica: 2,
      viewChanges: W,
      prePrepares: [signPrePrepare(c.replica(2), { view: 2, seq: 9, batch: A, replica: 2 })],
    });
    expect(reason(verifyNewView(crypto, params, prefersOld))).toBe("pre-prepares-differ");
  });
});

describe("view-change timing", () => {
  it.each([
    [0, 1000],
    [1, 2000],
    [2, 4000],
    [5, 32000],
    [6, 60000],
    [1000, 60000],
  ])(
    "after %i consecutive view changes the timeout is %i ms (base 1000, cap 60000)",
    (k, expected) => {
      expect(viewChangeTimeout(1000, k, 60000)).toBe(expected);
    },
  );

  it("refuses a negative count", () => {
    expect(() => viewChangeTimeout(1000, -1, 60000)).toThrow(RangeError);
  });

  const q = { n: 4, weak: 2 };
  it.each([
    ["nobody asked", [], undefined],
    ["one replica (possibly faulty) asks for view 5", [[1, 5]], undefined],
    [
      "f+1 replicas ask for views 3 and 5",
      [
        [1, 3],
        [2, 5],
      ],
      3,
    ],
    [
      "f+1 ask for 5 and 7, one for 9",
      [
        [1, 5],
        [2, 7],
        [3, 9],
      ],
      7,
    ],
    [
      "f+1, but one only for the current view",
      [
        [1, 2],
        [2, 5],
      ],
      undefined,
    ],
    [
      "f+1 counting this replica itself",
      [
        [0, 4],
        [2, 5],
      ],
      undefined,
    ],
    [
      "f+1 counting a stranger",
      [
        [9, 4],
        [2, 5],
      ],
      undefined,
    ],
  ] as const)("%s → %s", (_name, requested, expected) => {
    expect(viewToJoin(2, new Map(requested.map(([r, v]) => [r, v])), q, 0)).toBe(expected);
  });
});
