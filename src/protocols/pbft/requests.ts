import { toHex } from "../../core/crypto.js";
import type { Batch, Digest, Request } from "./messages.js";

/**
 * Requests known by digest, and the check that turns a batch of digests into the requests to
 * execute. Pre-prepares carry request digests; the requests themselves arrive separately (from
 * the client, forwarded by the primary, piggybacked inline, or fetched with FETCH-REQUESTS).
 * The store holds only requests whose client signature the caller verified and whose digest it
 * computed, so a faulty primary cannot substitute a request for the one a digest names.
 */

export type BatchRefusal =
  /** The same request twice in one batch (a primary padding or replaying). */
  | "duplicate-request"
  /** A read-only request is answered without ordering; in a batch it is a primary's mistake or attack. */
  | "read-only-in-batch";

export type StoreRefusal = "full" | "duplicate";

export type Resolution =
  | { readonly status: "complete"; readonly requests: readonly Request[] }
  | { readonly status: "missing"; readonly digests: readonly Digest[] }
  | { readonly status: "refused"; readonly reason: BatchRefusal };

/** Structural check of a batch before anything is fetched for it. */
export function checkBatchDigests(batch: Batch): BatchRefusal | undefined {
  const seen = new Set<string>();
  for (const d of batch.requests) {
    const key = toHex(d);
    if (seen.has(key)) return "duplicate-request";
    seen.add(key);
  }
  return undefined;
}

export class RequestStore {
  private readonly byDigest = new Map<string, Request>();

  /** At most `capacity` requests; more are refused ("full") until executed ones are removed. */
  constructor(private readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    }
  }

  get size(): number {
    return this.byDigest.size;
  }

  /** `digest` must be requestDigest(request), and its signature verified. */
  add(
    digest: Digest,
    request: Request,
  ): { accepted: true } | { accepted: false; reason: StoreRefusal } {
    const key = toHex(digest);
    if (this.byDigest.has(key)) return { accepted: false, reason: "duplicate" };
    if (this.byDigest.size >= this.capacity) return { accepted: false, reason: "full" };
    this.byDigest.set(key, request);
    return { accepted: true };
  }

  /** The request with this digest, if held. */
  get(digest: Digest): Request | undefined {
    return this.byDigest.get(toHex(digest));
  }

  has(digest: Digest): boolean {
    return this.byDigest.has(toHex(digest));
  }

  /**
   * The batch's requests in batch order, or the digests still missing (to fetch), or why the batch
   * must be refused. A null request resolves to no requests.
   */
  resolve(batch: Batch): Resolution {
    const refusal = checkBatchDigests(batch);
    if (refusal) return { status: "refused", reason: refusal };
    const requests: Request[] = [];
    const missing: Digest[] = [];
    for (const d of batch.requests) {
      const r = this.byDigest.get(toHex(d));
      if (!r) missing.push(d);
      else if (r.readOnly) return { status: "refused", reason: "read-only-in-batch" };
      else requests.push(r);
    }
    return missing.length > 0
      ? { status: "missing", digests: missing }
      : { status: "complete", requests };
  }

  /** Forget every request whose hex digest is not in `keep`. */
  retainOnly(keep: ReadonlySet<string>): void {
    for (const key of [...this.byDigest.keys()]) if (!keep.has(key)) this.byDigest.delete(key);
  }

  /** Forget requests once executed (or covered by a stable checkpoint). */
  remove(digests: Iterable<Digest>): void {
    for (const d of digests) this.byDigest.delete(toHex(d));
  }
}
