import { type Crypto, equalBytes } from "../../core/crypto.js";
import type { ReplicaId } from "../../core/ids.js";
import type { CheckpointProof, StateChunk } from "./messages.js";
import { type Membership, membersOf } from "./quorum.js";
import { chunkCount, verifyChunk } from "./state-digest.js";

/**
 * The fetching side of state transfer (TOCS §5.3, simplified to one checkpoint): a replica that
 * fell behind a stable checkpoint asks the replicas that signed its proof for the snapshot, one
 * chunk at a time, and checks every chunk against the state digest they signed on arrival. A
 * chunk that fails its Merkle path, or a source that stays silent, moves the fetch to the next
 * source; at least f+1 of the 2f+1 signers are correct and hold the state.
 */

export type ChunkVerdict =
  /** Not for this fetch (another checkpoint, or a chunk we did not ask for): ignored. */
  | "ignored"
  /** Fails its path or size: the source is faulty; ask the next one. */
  | "bad"
  | "more"
  | "complete";

export class StateFetch {
  private readonly sources: ReplicaId[];
  private sourceAt = 0;
  private readonly parts: Uint8Array[] = [];
  private total: number | undefined;
  private received = 0;
  /** Tick of the last request, for the retry timer. */
  requestedAt = 0;
  /** Sources found faulty (a bad chunk) during this fetch. */
  badSources = 0;

  constructor(
    private readonly crypto: Crypto,
    readonly target: CheckpointProof,
    self: ReplicaId,
    membership: Membership,
    private readonly chunkBytes: number,
    /** Start with this source (spreads the load of several fetchers). */
    rotation: number,
  ) {
    const signers = target.proof.map((c) => c.replica).filter((r) => r !== self);
    const others = membersOf(membership).filter((r) => r !== self && !signers.includes(r));
    // The signers first (they vouched for this state), then everyone else.
    this.sources = [...signers, ...others];
    if (this.sources.length === 0) throw new Error("invariant: state transfer with no source");
    this.sourceAt = rotation % this.sources.length;
  }

  get source(): ReplicaId {
    return this.sources[this.sourceAt]!;
  }

  /** The chunk to ask for next. */
  get nextChunk(): number {
    return this.received;
  }

  /** Move to the next source (timeout or a bad chunk). */
  rotate(): void {
    this.sourceAt = (this.sourceAt + 1) % this.sources.length;
  }

  onChunk(c: StateChunk): ChunkVerdict {
    if (c.seq !== this.target.seq || !equalBytes(c.stateDigest, this.target.stateDigest)) {
      return "ignored";
    }
    if (c.chunk !== this.received || c.replica !== this.source) return "ignored";
    if (!verifyChunk(this.crypto, this.target.stateDigest, this.chunkBytes, c)) {
      this.badSources++;
      this.rotate();
      return "bad";
    }
    this.total ??= c.total;
    this.parts.push(c.data);
    this.received++;
    return this.received >= chunkCount(this.total, this.chunkBytes) ? "complete" : "more";
  }

  /** The snapshot, once complete. */
  data(): Uint8Array {
    const total = this.total ?? 0;
    const out = new Uint8Array(total);
    let at = 0;
    for (const part of this.parts) {
      out.set(part, at);
      at += part.length;
    }
    if (at !== total)
      throw new Error(`invariant: state transfer assembled ${at} of ${total} bytes`);
    return out;
  }
}
