import { describe, expect, it } from "vitest";
import {
  makeAuthenticator,
  makeCommit,
  makeFetch,
  makeFetchRequests,
  makeReply,
  makeStateChunk,
  signCheckpoint,
  signPrePrepare,
  signPrepare,
  signRequest,
  verifyAuthenticator,
  verifyCheckpoint,
  verifyCommit,
  verifyFetch,
  verifyFetchRequests,
  verifyPrePrepare,
  verifyPrepare,
  verifyReply,
  verifyRequest,
  verifyRequestAt,
  verifyStateChunk,
} from "../../../src/protocols/pbft/authenticator.js";
import {
  batchDigest,
  commitBytes,
  prepareBytes,
  requestDigest,
  resultDigest,
} from "../../../src/protocols/pbft/signed-bytes.js";
import { StateTree, verifyChunk } from "../../../src/protocols/pbft/state-digest.js";
import { batchOf, digestOf, request, testCluster } from "./fixtures.js";

const c = testCluster(4);
const d = digestOf("batch");

describe("MAC authenticators (COMMIT)", () => {
  const commit = makeCommit(c.replica(1), 4, { view: 0, seq: 1, digest: d, replica: 1 });

  it("has one 32-byte entry per other replica and an empty one for the sender", () => {
    expect(commit.auth.map((e) => e.length)).toEqual([32, 0, 32, 32]);
  });

  it("verifies at every receiver", () => {
    for (const r of [0, 2, 3]) expect(verifyCommit(c.replica(r), r, commit)).toEqual({ ok: true });
  });

  it.each([
    ["an altered digest", { digest: digestOf("other") }, "bad-mac"],
    ["an altered seq", { seq: 2 }, "bad-mac"],
    ["an altered view", { view: 1 }, "bad-mac"],
    ["a claim to be another sender (forgery)", { replica: 2 }, "bad-mac"],
  ])("refuses %s", (_name, change, reason) => {
    expect(verifyCommit(c.replica(3), 3, { ...commit, ...change })).toEqual({ ok: false, reason });
  });

  it("refuses an entry made for another receiver (r2's entry in r3's place)", () => {
    const auth = [...commit.auth];
    auth[3] = auth[2]!;
    expect(verifyCommit(c.replica(3), 3, { ...commit, auth })).toEqual({
      ok: false,
      reason: "bad-mac",
    });
  });

  it("refuses a missing, empty or truncated entry, and the receiver's own message", () => {
    expect(verifyCommit(c.replica(3), 3, { ...commit, auth: commit.auth.slice(0, 3) }).ok).toBe(
      false,
    );
    const empty = [...commit.auth];
    empty[3] = new Uint8Array(0);
    expect(verifyCommit(c.replica(3), 3, { ...commit, auth: empty })).toEqual({
      ok: false,
      reason: "no-entry",
    });
    const short = [...commit.auth];
    short[3] = commit.auth[3]!.subarray(0, 16);
    expect(verifyCommit(c.replica(3), 3, { ...commit, auth: short }).ok).toBe(false);
    expect(verifyCommit(c.replica(1), 1, commit).ok).toBe(false);
  });

  it("a faulty replica can make an authenticator that verifies at some receivers only", () => {
    // Why COMMITs are never forwarded as proof: each receiver can check only its own entry.
    const auth = [...commit.auth];
    auth[2] = new Uint8Array(32);
    const partial = { ...commit, auth };
    expect(verifyCommit(c.replica(0), 0, partial).ok).toBe(true);
    expect(verifyCommit(c.replica(2), 2, partial).ok).toBe(false);
  });

  it("a COMMIT's authenticator does not pass for the PREPARE of the same slot", () => {
    const fields = { view: 0, seq: 1, digest: d, replica: 1 };
    const auth = makeAuthenticator(c.replica(1), 1, 4, commitBytes(fields));
    expect(verifyAuthenticator(c.replica(2), 2, 1, commitBytes(fields), auth).ok).toBe(true);
    expect(verifyAuthenticator(c.replica(2), 2, 1, prepareBytes(fields), auth).ok).toBe(false);
  });
});

describe("signatures (PRE-PREPARE, PREPARE, CHECKPOINT)", () => {
  const r1 = request(c, "alice", 1, { put: ["x", 1] });
  const batch = batchOf(c, 1000, r1);

  it("a PRE-PREPARE verifies and yields the batch digest computed by the receiver", () => {
    const pp = signPrePrepare(c.replica(0), { view: 0, seq: 1, batch, replica: 0 });
    const checked = verifyPrePrepare(c.replica(2), pp);
    expect(checked).toEqual({ ok: true, digest: batchDigest(c.replica(2), batch) });
  });

  it("a PRE-PREPARE with an altered batch, time, view, seq or sender fails", () => {
    const pp = signPrePrepare(c.replica(0), { view: 0, seq: 1, batch, replica: 0 });
    const r2 = request(c, "bob", 1, null);
    for (const bad of [
      { ...pp, batch: batchOf(c, 1000, r2) },
      { ...pp, batch: { ...batch, time: 1001 } },
      { ...pp, view: 4 },
      { ...pp, seq: 2 },
      { ...pp, replica: 1 },
    ]) {
      expect(verifyPrePrepare(c.replica(2), bad)).toEqual({ ok: false, reason: "bad-signature" });
    }
  });

  it("inline requests are outside the signature (they authenticate themselves)", () => {
    const pp = signPrePrepare(c.replica(0), { view: 0, seq: 1, batch, replica: 0 }, [r1]);
    expect(verifyPrePrepare(c.replica(2), { ...pp, inline: [] }).ok).toBe(true);
  });

  it("a PREPARE's signature does not verify for another sender, view or digest", () => {
    const p = signPrepare(c.replica(2), { view: 3, seq: 1, digest: d, replica: 2 });
    expect(verifyPrepare(c.replica(0), p).ok).toBe(true);
    expect(verifyPrepare(c.replica(0), { ...p, replica: 3 }).ok).toBe(false);
    expect(verifyPrepare(c.replica(0), { ...p, view: 4 }).ok).toBe(false);
    expect(verifyPrepare(c.replica(0), { ...p, digest: digestOf("x") }).ok).toBe(false);
  });

  it("a CHECKPOINT signature is not a PREPARE signature over similar fields", () => {
    const cp = signCheckpoint(c.replica(1), { seq: 1, stateDigest: d, replica: 1 });
    expect(verifyCheckpoint(c.replica(0), cp).ok).toBe(true);
    const asPrepare = {
      type: "prepare" as const,
      view: 0,
      seq: 1,
      digest: d,
      replica: 1,
      sig: cp.sig,
    };
    expect(verifyPrepare(c.replica(0), asPrepare).ok).toBe(false);
  });
});

describe("client requests are signed", () => {
  const r = request(c, "alice", 7, { put: ["k", "v"] });

  it("any replica verifies the client's signature", () => {
    for (let i = 0; i < 4; i++) expect(verifyRequest(c.replica(i), r).ok).toBe(true);
  });

  it("a primary cannot alter the operation, timestamp, read-only flag or client", () => {
    for (const bad of [
      { ...r, op: { put: ["k", "w"] } },
      { ...r, timestamp: 8 },
      { ...r, readOnly: true },
      { ...r, ackedBelow: 5 },
      { ...r, client: "bob" },
    ]) {
      expect(verifyRequest(c.replica(1), bad).ok).toBe(false);
    }
  });

  it("a bad signature fails at every replica alike (no big-MAC split)", () => {
    const bad = Uint8Array.from(r.sig);
    bad[5] = bad[5]! ^ 1;
    const verdicts = [0, 1, 2, 3].map((i) => verifyRequest(c.replica(i), { ...r, sig: bad }).ok);
    expect(verdicts).toEqual([false, false, false, false]);
  });

  it("a replica cannot forge a client's request with its own key", () => {
    const forged = {
      ...r,
      op: "evil",
      sig: c.replica(0).sign(requestDigest(c.replica(0), { ...r, op: "evil" })),
    };
    expect(verifyRequest(c.replica(1), forged).ok).toBe(false);
  });
});

describe("client requests carry a MAC authenticator", () => {
  const r = signRequest(
    c.client("alice"),
    { client: "alice", timestamp: 7, ackedBelow: 0, readOnly: false, op: { put: ["k", "v"] } },
    4,
  );
  const noSignature = { ...r, sig: new Uint8Array(64) };

  it("has one 32-byte entry per replica, each verifying only at its replica", () => {
    expect(r.auth!.map((e) => e.length)).toEqual([32, 32, 32, 32]);
    for (let i = 0; i < 4; i++) expect(verifyRequestAt(c.replica(i), i, noSignature).ok).toBe(true);
    const swapped = { ...noSignature, auth: [r.auth![1]!, r.auth![0]!, r.auth![2]!, r.auth![3]!] };
    expect(verifyRequestAt(c.replica(0), 0, swapped).ok).toBe(false);
    expect(verifyRequestAt(c.replica(2), 2, swapped).ok).toBe(true);
  });

  it("an altered request fails its entry and the signature", () => {
    for (const bad of [
      { ...r, op: { put: ["k", "w"] } },
      { ...r, timestamp: 8 },
      { ...r, client: "bob" },
    ])
      expect(verifyRequestAt(c.replica(1), 1, bad)).toEqual({ ok: false, reason: "bad-signature" });
  });

  it("a missing or wrong entry falls back to the signature", () => {
    const { auth: _auth, ...signedOnly } = r;
    expect(verifyRequestAt(c.replica(3), 3, signedOnly).ok).toBe(true);
    const wrong = { ...r, auth: r.auth!.map(() => new Uint8Array(32)) };
    expect(verifyRequestAt(c.replica(3), 3, wrong).ok).toBe(true);
    expect(verifyRequestAt(c.replica(3), 3, { ...wrong, sig: new Uint8Array(64) }).ok).toBe(false);
  });
});

describe("replies", () => {
  const fields = { view: 0, timestamp: 3, client: "alice", replica: 2, tentative: false };

  it("a full and a digest reply name the same result digest and verify at the client", () => {
    const full = makeReply(c.replica(2), fields, { ok: 1 }, true);
    const digestOnly = makeReply(c.replica(2), fields, { ok: 1 }, false);
    expect(full.resultDigest).toEqual(resultDigest(c.replica(0), { ok: 1 }));
    expect(digestOnly.resultDigest).toEqual(full.resultDigest);
    expect(digestOnly.result).toBeNull();
    expect(verifyReply(c.client("alice"), full).ok).toBe(true);
    expect(verifyReply(c.client("alice"), digestOnly).ok).toBe(true);
  });

  it("refuses a full result that does not match its digest, and a MAC for another client", () => {
    const full = makeReply(c.replica(2), fields, { ok: 1 }, true);
    expect(verifyReply(c.client("alice"), { ...full, result: { ok: 2 } })).toEqual({
      ok: false,
      reason: "result-mismatch",
    });
    expect(verifyReply(c.client("bob"), { ...full, client: "bob" }).ok).toBe(false);
    expect(verifyReply(c.client("alice"), { ...full, replica: 1 }).ok).toBe(false);
    expect(verifyReply(c.client("alice"), { ...full, tentative: true }).ok).toBe(false);
  });
});

describe("state transfer and request fetching (one MAC for the receiver)", () => {
  const snapshot = new Uint8Array(50).fill(3);
  const tree = new StateTree(c.replica(2), snapshot, 16);

  it("FETCH verifies at the receiver only, and not with another sender or chunk", () => {
    const f = makeFetch(c.replica(1), 2, {
      replica: 1,
      seq: 8,
      stateDigest: tree.digest,
      chunk: 0,
    });
    expect(verifyFetch(c.replica(2), f).ok).toBe(true);
    expect(verifyFetch(c.replica(3), f).ok).toBe(false);
    expect(verifyFetch(c.replica(2), { ...f, replica: 3 }).ok).toBe(false);
    expect(verifyFetch(c.replica(2), { ...f, chunk: 1 }).ok).toBe(false);
  });

  it("a STATE-CHUNK's MAC covers the data and path; the data is then checked against the digest", () => {
    const chunk = tree.chunk(1);
    const m = makeStateChunk(c.replica(2), 1, {
      replica: 2,
      seq: 8,
      stateDigest: tree.digest,
      ...chunk,
    });
    expect(verifyStateChunk(c.replica(1), m).ok).toBe(true);
    expect(verifyChunk(c.replica(1), m.stateDigest, 16, m)).toBe(true);
    const altered = { ...m, data: new Uint8Array(16).fill(4) };
    expect(verifyStateChunk(c.replica(1), altered).ok).toBe(false);
    // A faulty server MACs wrong data correctly: the MAC passes, the digest check does not.
    const lying = makeStateChunk(c.replica(2), 1, { ...m, data: new Uint8Array(16).fill(4) });
    expect(verifyStateChunk(c.replica(1), lying).ok).toBe(true);
    expect(verifyChunk(c.replica(1), lying.stateDigest, 16, lying)).toBe(false);
  });

  it("FETCH-REQUESTS verifies at the receiver, not when a digest is swapped", () => {
    const f = makeFetchRequests(c.replica(3), 0, { replica: 3, digests: [d] });
    expect(verifyFetchRequests(c.replica(0), f).ok).toBe(true);
    expect(verifyFetchRequests(c.replica(0), { ...f, digests: [digestOf("x")] }).ok).toBe(false);
  });
});
