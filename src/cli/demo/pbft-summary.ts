import { percentiles } from "../../bench/put-load.js";
import type { ReadBackResult } from "./read-back.js";
import { seconds } from "./screen.js";

export interface PbftDemoSummary {
  readonly ok: number;
  readonly workloadMs: number;
  readonly errors: ReadonlyMap<string, number>;
  readonly latenciesMs: Float64Array;
  /** Views that had a primary, in order (from the replicas' logs). */
  readonly views: readonly { readonly view: number; readonly primary: number }[];
  /** From the Byzantine restart of the primary until a new primary was established. */
  readonly viewChangeMs: number;
  readonly longestGap: { readonly ms: number; readonly endedAt: number };
  /**
   * The lying backup's replies the clients' votes rejected while it sent wrong replies, and
   * every replica's in all (a lagging replica's read-only answer can lose a vote too).
   */
  readonly outvoted: { readonly phase: number; readonly total: number };
  /** Messages the correct replicas dropped, by kind (PBFT's `drops` in /status). */
  readonly rejected: Readonly<Record<string, number>>;
  /** Lies the Byzantine replica told in each of its roles (its /status `lies`). */
  readonly lies: Readonly<Record<string, number>>;
  readonly stateTransfer: { readonly index: number; readonly ms: number };
  readonly readBack: ReadBackResult;
}

/** The table printed at the end of the PBFT demo. */
export function formatPbftSummary(s: PbftDemoSummary): string {
  const p = percentiles(s.latenciesMs);
  const errorTotal = [...s.errors.values()].reduce((a, b) => a + b, 0);
  const byCode = [...s.errors].map(([code, n]) => `${code} ${n}`).join(", ");
  const rate = s.workloadMs > 0 ? (s.ok * 1000) / s.workloadMs : 0;
  const good = s.readBack.checked - s.readBack.lost.length - s.readBack.unreadable.length;
  const unreadable =
    s.readBack.unreadable.length > 0 ? `, ${s.readBack.unreadable.length} unreadable` : "";
  const kinds = Object.entries(s.rejected).filter(([, n]) => n > 0);
  const rejectedTotal = kinds.reduce((a, [, n]) => a + n, 0);
  const rows: [string, string][] = [
    ["ops ok", `${s.ok} in ${seconds(s.workloadMs)} s (${rate.toFixed(0)}/s)`],
    ["errors", errorTotal === 0 ? "0" : `${errorTotal} (${byCode})`],
    ["latency", p ? `p50 ${ms(p.p50)} ms, p99 ${ms(p.p99)} ms, max ${ms(p.max)} ms` : "none"],
    [
      "view changes",
      `${Math.max(0, s.views.length - 1)} (${s.views.map((v) => `view ${v.view}: r${v.primary}`).join(", ")})`,
    ],
    [
      "without a primary",
      `${seconds(s.viewChangeMs)} s (from the Byzantine restart to the new primary)`,
    ],
    [
      "longest stall",
      `${seconds(s.longestGap.ms)} s with no operation completing (ended at ${seconds(s.longestGap.endedAt)} s)`,
    ],
    [
      "replies out-voted",
      `${s.outvoted.phase} while a backup sent wrong replies (${s.outvoted.total} in all, from any replica)`,
    ],
    [
      "messages rejected",
      rejectedTotal === 0
        ? "0"
        : `${rejectedTotal} (${kinds.map(([kind, n]) => `${kind} ${n}`).join(", ")})`,
    ],
    [
      "lies told",
      Object.entries(s.lies)
        .map(([behaviour, n]) => `${behaviour} ${n}`)
        .join(", "),
    ],
    [
      "state transfer",
      `checkpoint ${s.stateTransfer.index}, caught up ${seconds(s.stateTransfer.ms)} s after the restart`,
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
