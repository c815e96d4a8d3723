import { readFileSync } from "node:fs";
import { limits } from "../core/limits.js";

/** What is assumed when the soft limit cannot be read (the usual Linux default). */
export const assumedFdLimit = 1024;

/**
 * The soft RLIMIT_NOFILE of this process. Node does not expose getrlimit, so it is read from
 * /proc/self/limits on Linux; elsewhere, or when that fails, 1024 is assumed (the common default,
 * and erring low only lowers the socket ceilings). "unlimited" counts as 2^20.
 */
export function softFdLimit(procLimits = "/proc/self/limits"): number {
  let text: string;
  try {
    text = readFileSync(procLimits, "utf8");
  } catch {
    return assumedFdLimit;
  }
  return parseSoftFdLimit(text) ?? assumedFdLimit;
}

/** The soft "Max open files" of a /proc/<pid>/limits text, if it has one. */
export function parseSoftFdLimit(text: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith("Max open files"));
  const soft = line?.slice("Max open files".length).trim().split(/\s+/)[0];
  if (soft === "unlimited") return 2 ** 20;
  const n = Number(soft);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/** How a replica's file descriptors are shared out (docs/operations.md, "File descriptors"). */
export interface FdBudget {
  readonly softLimit: number;
  /** Never given to sockets: storage, logs and Node itself. */
  readonly reserve: number;
  /** Ceiling of sockets accepted on the metrics/status port. */
  readonly httpSockets: number;
  /** Ceiling of sockets accepted on the replica port (clients, lower-id replicas, strangers). */
  readonly replicaSockets: number;
}

/**
 * Shares `softLimit` descriptors out: the reserve first (max(limits.fdReserveMin, 1/8 of the
 * limit)), then one outgoing socket per other replica, then the HTTP endpoint's cap, and the rest
 * (up to what the transport's budgets can use anyway) to the replica port. Each ceiling is at
 * least 1, so a tiny limit still starts, with the reserve squeezed instead.
 */
export function fdBudget(
  softLimit: number,
  replicas: number,
  replicaPortWants: number,
  httpCap: number = limits.httpConnections,
): FdBudget {
  const reserve = Math.max(limits.fdReserveMin, Math.floor(softLimit / 8));
  const forSockets = Math.max(0, softLimit - reserve - Math.max(0, replicas - 1));
  const httpSockets = Math.max(1, Math.min(httpCap, Math.floor(forSockets / 8)));
  const replicaSockets = Math.max(1, Math.min(replicaPortWants, forSockets - httpSockets));
  return { softLimit, reserve, httpSockets, replicaSockets };
}
