import type { Random } from "../../core/prng.js";
import type { ClientOperation } from "../service-kit.js";
import { checkCount, checkRatio, pickWeighted } from "../shared/workload.js";
import { LOCK_MAX_TTL_MS } from "./types.js";

export interface LockWorkloadOptions {
  /** Distinct owners; client c acts as owner `o<c mod owners>`. Default 4. */
  readonly owners?: number;
  /** Lease lengths to pick from, in ms; short, so leases expire during a run. Default 10, 30, 100. */
  readonly ttls?: readonly number[];
  /** Fraction of operations that are holder queries. Default 0.3. */
  readonly queryRatio?: number;
  /** Fraction of operations that are releases. Default 0.25; the rest are acquires. */
  readonly releaseRatio?: number;
}

/**
 * Builds `nextOperation` for the lock kit: a few owners contending for the one lock. Owners are
 * tied to clients so that a client releases and renews its own lease, as a real one would; with
 * more clients than owners, clients share an owner name and renew each other's lease, which is
 * legal and contends harder. Stateless: everything random comes from `random`.
 */
export function createLockWorkload(
  options: LockWorkloadOptions = {},
): (random: Random, client: number) => ClientOperation {
  const owners = checkCount("owners", options.owners ?? 4, 1, 1_000_000);
  const ttls = options.ttls ?? [10, 30, 100];
  if (ttls.length === 0) throw new RangeError("ttls must not be empty");
  for (const ttl of ttls) checkCount("ttl", ttl, 1, LOCK_MAX_TTL_MS);
  const queryRatio = checkRatio("queryRatio", options.queryRatio ?? 0.3);
  const releaseRatio = checkRatio("releaseRatio", options.releaseRatio ?? 0.25);
  if (queryRatio + releaseRatio > 1) {
    throw new RangeError(
      `queryRatio + releaseRatio must be at most 1, got ${queryRatio + releaseRatio}`,
    );
  }
  const choices = [
    ["acquire", 1 - queryRatio - releaseRatio],
    ["release", releaseRatio],
    ["query", queryRatio],
  ] as const;

  return (random, client): ClientOperation => {
    const owner = `o${((client % owners) + owners) % owners}`;
    switch (pickWeighted(random, choices)) {
      case "query":
        return { kind: "query", value: { op: "holder" } };
      case "release":
        return { kind: "command", value: { op: "release", owner } };
      case "acquire":
        return {
          kind: "command",
          value: { op: "acquire", owner, ttlMs: ttls[random.int(ttls.length)]! },
        };
    }
  };
}
