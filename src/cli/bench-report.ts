import type { PutLoadResult } from "../bench/put-load.js";
import type { ArbiterKind } from "./init-arbiter.js";

/** What `lockstep bench` measured; `--json` prints exactly this object (bench/etcd.sh reads it). */
export interface BenchReport extends PutLoadResult {
  readonly system: string;
  /** primary-backup: the arbiter the pair ran with (a Raft group of 3, or a single process). */
  readonly arbiter?: ArbiterKind;
  /** Connections the clients shared (equal to clients: one each). */
  readonly connections: number;
  readonly keySize: number;
  readonly valueSize: number;
  /** Per replica, over the measured window only: CPU seconds, WAL fsyncs, acknowledged puts per fsync. */
  readonly replicas: readonly {
    readonly id: number;
    readonly role: string;
    readonly cpuSeconds: number | null;
    readonly fsyncs: number | null;
    readonly opsPerFsync: number | null;
    /** Messages and frames this replica sent over the load (a frame carries a batch of messages). */
    readonly messagesOut: number | null;
    readonly framesOut: number | null;
  }[];
  /** CPU seconds of the load generator (this process) over the load. */
  readonly clientCpuSeconds: number;
}

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows
    .map((r) =>
      r
        .map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)))
        .join("  "),
    )
    .join("\n");
}

const ms = (v: number | undefined) => (v === undefined ? "-" : v.toFixed(2));
const opt = (v: number | null, digits: number) => (v === null ? "-" : v.toFixed(digits));

/** The human-readable tables of a bench report. */
export function formatBenchReport(r: BenchReport): string {
  const l = r.latencyMs;
  const arbiter =
    r.arbiter === undefined
      ? ""
      : ` + arbiter (${r.arbiter === "raft" ? "a Raft group of 3" : "a single process"}, asked only at go-live)`;
  const head = `${r.system}: ${r.replicas.length} replica(s)${arbiter}, ${r.clients} client(s) on ${r.connections} connection(s), ${r.elapsedSeconds.toFixed(1)} s after ${r.warmupSeconds} s of warm-up, ${r.keySize}-byte keys, ${r.valueSize}-byte values`;
  const load = table([
    ["puts", "errors", "puts/s", "p50 ms", "p90 ms", "p99 ms", "max ms"],
    [
      String(r.ops),
      String(r.errors),
      r.opsPerSecond.toFixed(0),
      ms(l?.p50),
      ms(l?.p90),
      ms(l?.p99),
      ms(l?.max),
    ],
  ]);
  const perReplica = table([
    ["replica", "role", "CPU s", "CPU %", "fsyncs", "puts/fsync", "msgs out", "frames out"],
    ...r.replicas.map((p) => [
      `r${p.id}`,
      p.role,
      opt(p.cpuSeconds, 2),
      p.cpuSeconds === null ? "-" : ((100 * p.cpuSeconds) / r.elapsedSeconds).toFixed(0),
      p.fsyncs === null ? "-" : String(p.fsyncs),
      opt(p.opsPerFsync, 1),
      p.messagesOut === null ? "-" : String(p.messagesOut),
      p.framesOut === null ? "-" : String(p.framesOut),
    ]),
    [
      "client",
      "load",
      r.clientCpuSeconds.toFixed(2),
      ((100 * r.clientCpuSeconds) / r.elapsedSeconds).toFixed(0),
      "-",
      "-",
      "-",
      "-",
    ],
  ]);
  const errors = Object.entries(r.errorKinds)
    .map(([k, v]) => `${k} ${v}`)
    .join(", ");
  return `${head}\n\n${load}\n\n${perReplica}${errors ? `\n\nerrors: ${errors}` : ""}`;
}
