import type { ReplicaStatus } from "./status.js";

/**
 * Reads a replica's `GET /status` (the metrics endpoint). Throws with a one-line reason when the
 * replica does not answer in `timeoutMs` or answers something that is not a status object.
 */
export async function fetchReplicaStatus(
  host: string,
  port: number,
  timeoutMs = 2_000,
): Promise<ReplicaStatus> {
  const response = await fetch(`http://${host.includes(":") ? `[${host}]` : host}:${port}/status`, {
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const body = (await response.json()) as unknown;
  if (
    typeof body !== "object" ||
    body === null ||
    typeof (body as { replica?: unknown }).replica !== "number" ||
    typeof (body as { role?: unknown }).role !== "string"
  ) {
    throw new Error("not a lockstep /status answer");
  }
  return body as ReplicaStatus;
}

/** Why fetchReplicaStatus failed, in a few words: "connection refused", not "fetch failed". */
export function statusFailureReason(error: unknown, timeoutMs: number): string {
  const e = error as { name?: unknown; message?: unknown; cause?: { code?: unknown } };
  if (e.name === "TimeoutError" || e.name === "AbortError") return `no answer in ${timeoutMs} ms`;
  const code = e.cause?.code;
  if (code === "ECONNREFUSED") return "connection refused";
  if (typeof code === "string") return code;
  return typeof e.message === "string" ? e.message : String(error);
}
