import { describe, expect, it } from "vitest";
import type { Request } from "../../../src/protocols/pbft/messages.js";
import { checkBatchDigests, RequestStore } from "../../../src/protocols/pbft/requests.js";
import { requestDigest } from "../../../src/protocols/pbft/signed-bytes.js";
import { request, testCluster } from "./fixtures.js";

const c = testCluster(4);
const D = (r: Request) => requestDigest(c.replica(0), r);
const a = request(c, "alice", 1, "a");
const b = request(c, "bob", 1, "b");
const q = request(c, "alice", 2, "read x", true);

function store(...requests: Request[]): RequestStore {
  const s = new RequestStore(8);
  for (const r of requests) expect(s.add(D(r), r)).toEqual({ accepted: true });
  return s;
}

describe("resolving a batch of digests into requests", () => {
  it("returns the requests in batch order once all are known", () => {
    expect(store(a, b).resolve({ time: 1, requests: [D(b), D(a)] })).toEqual({
      status: "complete",
      requests: [b, a],
    });
  });

  it("names the digests still missing, to fetch them", () => {
    expect(store(a).resolve({ time: 1, requests: [D(a), D(b)] })).toEqual({
      status: "missing",
      digests: [D(b)],
    });
  });

  it("a null request resolves to nothing", () => {
    expect(store().resolve({ time: 0, requests: [] })).toEqual({
      status: "complete",
      requests: [],
    });
  });

  it.each([
    ["the same request twice", [D(a), D(a)], "duplicate-request"],
    ["a read-only request", [D(a), D(q)], "read-only-in-batch"],
  ])("refuses a batch with %s", (_name, requests, reason) => {
    expect(store(a, q).resolve({ time: 1, requests })).toEqual({ status: "refused", reason });
  });

  it("checkBatchDigests catches duplicates before anything is fetched", () => {
    expect(checkBatchDigests({ time: 1, requests: [D(a), D(b), D(a)] })).toBe("duplicate-request");
    expect(checkBatchDigests({ time: 1, requests: [D(a), D(b)] })).toBeUndefined();
  });
});

describe("the store", () => {
  it("is bounded, refuses duplicates, and forgets executed requests", () => {
    const s = new RequestStore(2);
    expect(s.add(D(a), a)).toEqual({ accepted: true });
    expect(s.add(D(a), a)).toEqual({ accepted: false, reason: "duplicate" });
    expect(s.add(D(b), b)).toEqual({ accepted: true });
    expect(s.add(D(q), q)).toEqual({ accepted: false, reason: "full" });
    s.remove([D(a)]);
    expect([s.has(D(a)), s.size]).toEqual([false, 1]);
    expect(s.add(D(q), q)).toEqual({ accepted: true });
    expect(() => new RequestStore(0)).toThrow(RangeError);
  });
});
