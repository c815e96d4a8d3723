import { describe, expect, it } from "vitest";
import {
  chunkCount,
  StateTree,
  stateDigest,
  verifyChunk,
} from "../../../src/protocols/pbft/state-digest.js";
import { testCluster } from "./fixtures.js";

const crypto = testCluster(4).replica(0);
const chunkWithPath = (crypto: StateTreeCrypto, s: Uint8Array, size: number, i: number) =>
  new StateTree(crypto, s, size).chunk(i);
type StateTreeCrypto = ConstructorParameters<typeof StateTree>[0];
const snapshot = (size: number) => Uint8Array.from({ length: size }, (_, i) => (i * 7) % 251);

describe("chunked state digest", () => {
  it.each([0, 1, 10, 11, 30, 31, 70])(
    "every chunk of a %i-byte snapshot (chunks of 10) verifies",
    (size) => {
      const s = snapshot(size);
      const root = stateDigest(crypto, s, 10);
      const chunks = chunkCount(size, 10);
      for (let i = 0; i < chunks; i++) {
        expect(verifyChunk(crypto, root, 10, chunkWithPath(crypto, s, 10, i))).toBe(true);
      }
    },
  );

  it("the digest depends on every byte and on the length", () => {
    const s = snapshot(31);
    const t = Uint8Array.from(s);
    t[17] = t[17]! ^ 1;
    const digests = [
      stateDigest(crypto, s, 10),
      stateDigest(crypto, t, 10),
      stateDigest(crypto, s.subarray(0, 30), 10),
    ];
    expect(new Set(digests.map((x) => Buffer.from(x).toString("hex"))).size).toBe(3);
  });

  it("a wrong chunk from a faulty replica is caught on arrival", () => {
    const s = snapshot(45);
    const root = stateDigest(crypto, s, 10);
    const good = chunkWithPath(crypto, s, 10, 2);
    const flipped = Uint8Array.from(good.data);
    flipped[0] = flipped[0]! ^ 1;
    const other = chunkWithPath(crypto, snapshot(46), 10, 2);
    for (const bad of [
      { ...good, data: flipped },
      { ...good, chunk: 3 }, // right data, wrong position
      { ...good, total: 46 }, // lies about the size
      { ...good, chunks: 6 },
      { ...good, data: good.data.subarray(0, 9) },
      { ...good, path: good.path.slice(1) },
      { ...good, path: [...good.path, good.path[0]!] },
      other, // a valid chunk of another state
    ]) {
      expect(verifyChunk(crypto, root, 10, bad)).toBe(false);
    }
  });

  it("refuses to serve a chunk that does not exist", () => {
    expect(() => chunkWithPath(crypto, snapshot(20), 10, 2)).toThrow(RangeError);
  });
});
