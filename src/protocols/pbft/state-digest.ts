import type { Crypto } from "../../core/crypto.js";
import { equalBytes } from "../../core/crypto.js";
import { ByteWriter } from "./canonical.js";
import type { Digest } from "./messages.js";
import { Kind, pbftDomain } from "./signed-bytes.js";

/**
 * The state digest a CHECKPOINT signs, shaped so that state transfer can check each chunk of a
 * snapshot on arrival (TOCS §5.3 uses a partition tree for the same reason): the snapshot is cut
 * into fixed-size chunks, the chunks are the leaves of a Merkle tree, and
 *
 *   stateDigest = SHA-256(domain ‖ 0f ‖ u64 total bytes ‖ u32 chunk count ‖ 32 Merkle root)
 *   leaf i      = SHA-256(domain ‖ 10 ‖ u64 i ‖ chunk bytes)
 *   inner node  = SHA-256(domain ‖ 11 ‖ left ‖ right); a lone last node is carried up unchanged.
 *
 * A fetcher holds one chunk at a time and its path (log2(chunks) digests); a chunk that fails
 * its path came from a faulty replica, and the fetcher asks another.
 */
const leafKind = 0x10;
const nodeKind = 0x11;

export function chunkCount(total: number, chunkSize: number): number {
  return Math.max(1, Math.ceil(total / chunkSize));
}

function leaf(crypto: Crypto, index: number, data: Uint8Array): Digest {
  return crypto.digest(new ByteWriter().raw(pbftDomain).u8(leafKind).u64(index).raw(data).finish());
}

function node(crypto: Crypto, left: Digest, right: Digest): Digest {
  return crypto.digest(new ByteWriter().raw(pbftDomain).u8(nodeKind).raw(left).raw(right).finish());
}

function wrap(crypto: Crypto, total: number, count: number, root: Digest): Digest {
  return crypto.digest(
    new ByteWriter().raw(pbftDomain).u8(Kind.state).u64(total).u32(count).raw(root).finish(),
  );
}

function chunkAt(snapshot: Uint8Array, chunkSize: number, i: number): Uint8Array {
  return snapshot.subarray(i * chunkSize, Math.min(snapshot.length, (i + 1) * chunkSize));
}

/** Levels of the tree, leaves first. */
function levels(crypto: Crypto, snapshot: Uint8Array, chunkSize: number): Digest[][] {
  const count = chunkCount(snapshot.length, chunkSize);
  let level: Digest[] = [];
  for (let i = 0; i < count; i++) level.push(leaf(crypto, i, chunkAt(snapshot, chunkSize, i)));
  const all = [level];
  while (level.length > 1) {
    const up: Digest[] = [];
    for (let i = 0; i < level.length; i += 2) {
      up.push(i + 1 < level.length ? node(crypto, level[i]!, level[i + 1]!) : level[i]!);
    }
    all.push(up);
    level = up;
  }
  return all;
}

/**
 * The serving side: the tree of one snapshot, built once (one hash per chunk and per inner node),
 * then any chunk with its path without rehashing the snapshot.
 */
export class StateTree {
  private readonly tree: Digest[][];
  readonly chunks: number;
  readonly digest: Digest;

  constructor(
    crypto: Crypto,
    private readonly snapshot: Uint8Array,
    private readonly chunkSize: number,
  ) {
    if (!Number.isInteger(chunkSize) || chunkSize < 1) {
      throw new RangeError(`chunk size must be a positive integer, got ${chunkSize}`);
    }
    this.tree = levels(crypto, snapshot, chunkSize);
    this.chunks = this.tree[0]!.length;
    this.digest = wrap(crypto, snapshot.length, this.chunks, this.tree[this.tree.length - 1]![0]!);
  }

  /** Chunk `i` with its path: sibling digests from the leaf up, skipping levels without one. */
  chunk(i: number): ChunkWithPath {
    if (!Number.isInteger(i) || i < 0 || i >= this.chunks) throw new RangeError(`no chunk ${i}`);
    const path: Digest[] = [];
    let index = i;
    for (let l = 0; l < this.tree.length - 1; l++) {
      const sibling = index ^ 1;
      const level = this.tree[l]!;
      if (sibling < level.length) path.push(level[sibling]!);
      index >>= 1;
    }
    return {
      chunk: i,
      chunks: this.chunks,
      total: this.snapshot.length,
      data: chunkAt(this.snapshot, this.chunkSize, i),
      path,
    };
  }
}

/** The digest a CHECKPOINT signs for `snapshot`. */
export function stateDigest(crypto: Crypto, snapshot: Uint8Array, chunkSize: number): Digest {
  return new StateTree(crypto, snapshot, chunkSize).digest;
}

export interface ChunkWithPath {
  readonly chunk: number;
  readonly chunks: number;
  readonly total: number;
  readonly data: Uint8Array;
  /** Sibling digests from the leaf up; levels where the node has no sibling are skipped. */
  readonly path: readonly Digest[];
}

/**
 * The fetching side: does this chunk belong to the state with `expected` digest? Checks the
 * declared size against the chunk size (so the fetcher can bound memory before installing) and
 * the path up to the root.
 */
export function verifyChunk(
  crypto: Crypto,
  expected: Digest,
  chunkSize: number,
  c: ChunkWithPath,
): boolean {
  if (!Number.isInteger(c.total) || c.total < 0) return false;
  if (c.chunks !== chunkCount(c.total, chunkSize) || c.chunk < 0 || c.chunk >= c.chunks) {
    return false;
  }
  const size = Math.min(chunkSize, c.total - c.chunk * chunkSize);
  if (c.data.length !== Math.max(0, size)) return false;
  let digest = leaf(crypto, c.chunk, c.data);
  let index = c.chunk;
  let width = c.chunks;
  let used = 0;
  while (width > 1) {
    const sibling = index ^ 1;
    if (sibling < width) {
      const other = c.path[used++];
      if (other?.length !== 32) return false;
      digest = index % 2 === 0 ? node(crypto, digest, other) : node(crypto, other, digest);
    }
    index >>= 1;
    width = Math.ceil(width / 2);
  }
  if (used !== c.path.length) return false;
  return equalBytes(wrap(crypto, c.total, c.chunks, digest), expected);
}
