import { rejectionCounters } from "../../net/counters.js";
import type { ReplicaStatus } from "../../runtime/status.js";

function numberAt(value: unknown, ...path: string[]): number | undefined {
  let at: unknown = value;
  for (const key of path) {
    if (typeof at !== "object" || at === null) return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return typeof at === "number" ? at : undefined;
}

/**
 * Everything a replica has refused since it started, by cause: frames the network layer
 * refused, requests refused by role, requests naming a foreign session, and what the protocol
 * rejected (PBFT counts by kind; primary/backup counts dropped messages).
 */
export function rejectionCounts(status: ReplicaStatus): Map<string, number> {
  const out = new Map<string, number>();
  const add = (name: string, n: number | undefined) => {
    if (n !== undefined && n > 0) out.set(name, (out.get(name) ?? 0) + n);
  };
  for (const name of rejectionCounters) add(`net ${name}`, status.net[name]);
  for (const [why, n] of Object.entries(status.requests.refused)) add(`refused ${why}`, n);
  add("foreign session", status.requests.foreignSession);
  const details = status.details;
  const rejected = (details as { counters?: { rejected?: unknown } } | null)?.counters?.rejected;
  if (typeof rejected === "object" && rejected !== null) {
    for (const [kind, n] of Object.entries(rejected))
      add(`pbft ${kind}`, typeof n === "number" ? n : 0);
  }
  add("dropped by the protocol", numberAt(details, "droppedMessages"));
  return out;
}

/** What grew from `before` to `after` ("badMac +2, pbft bad-signature +1"), and the total. */
export function rejectionGrowth(
  before: ReadonlyMap<string, number>,
  after: ReadonlyMap<string, number>,
): { readonly total: number; readonly text: string } {
  const parts: string[] = [];
  let total = 0;
  for (const [name, n] of after) {
    const grown = n - (before.get(name) ?? 0);
    if (grown > 0) {
      total += grown;
      parts.push(`${name} +${grown}`);
    }
  }
  return { total, text: parts.join(", ") };
}
