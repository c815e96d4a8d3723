import { percentiles } from "../../bench/put-load.js";
import type { ReadBackResult } from "./read-back.js";
import { seconds } from "./screen.js";

export interface DemoSummary {
  readonly ok: number;
  readonly workloadMs: number;
  readonly errors: ReadonlyMap<string, number>;
  readonly latenciesMs: Float64Array;
  /** Terms that had a leader, in order: each after the first is one more election. */
  readonly leaderTerms: readonly number[];
  /** From the SIGKILL until the new leader's first log line. */
  readonly noLeaderMs: number;
  /** The longest stretch with no operation completing, and when it ended (ms since start). */
  readonly longestGap: { readonly ms: number; readonly endedAt: number };
  readonly readBack: ReadBackResult;
}

/** The table printed at the end of the demo. */
export function formatSummary(s: DemoSummary): string {
  const p = percentiles(s.latenciesMs);
  const errorTotal = [...s.errors.values()].reduce((a, b) => a + b, 0);
  const byCode = [...s.errors].map(([code, n]) => `${code} ${n}`).join(", ");
  const rate = s.workloadMs > 0 ? (s.ok * 1000) / s.workloadMs : 0;
  const good = s.readBack.checked - s.readBack.lost.length - s.readBack.unreadable.length;
  const unreadable =
    s.readBack.unreadable.length > 0 ? `, ${s.readBack.unreadable.length} unreadable` : "";
  const rows: [string, string][] = [
    ["ops ok", `${s.ok} in ${seconds(s.workloadMs)} s (${rate.toFixed(0)}/s)`],
    ["errors", errorTotal === 0 ? "0" : `${errorTotal} (${byCode})`],
    ["latency", p ? `p50 ${ms(p.p50)} ms, p99 ${ms(p.p99)} ms, max ${ms(p.max)} ms` : "none"],
    [
      "elections",
      `${Math.max(0, s.leaderTerms.length - 1)} after the first (leader terms ${s.leaderTerms.join(", ")})`,
    ],
    ["without a leader", `${seconds(s.noLeaderMs)} s (from the SIGKILL to the new leader)`],
    [
      "longest stall",
      `${seconds(s.longestGap.ms)} s with no operation completing (ended at ${seconds(s.longestGap.endedAt)} s)`,
    ],
    ["acknowledged writes", `read back ${good}/${s.readBack.checked}${unreadable}`],
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  return ["summary", ...rows.map(([name, value]) => `  ${name.padEnd(width)}  ${value}`)].join(
    "\n",
  );
}

function ms(value: number): string {
  return value < 10 ? value.toFixed(2) : value.toFixed(1);
}
