import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import type { BenchReport } from "../../src/cli/bench-report.js";
import { validateClusterConfig } from "../../src/core/config.js";
import { type CliResult, canBind, runCliAsync } from "./run-cli.js";

// `lockstep bench` starts real replica processes (dist/runtime/replica-main.js): run
// `npm run build` first (npm test does it).

/**
 * Each bench run gets its own TMPDIR under `root`: bench makes its cluster folder there (it has no
 * --dir option), so a replica left running is one whose command line names that folder.
 */
const root = mkdtempSync(join(tmpdir(), "lockstep-bench-test-"));

afterEach(() => {
  // A failed test must not leave replicas behind: kill (by pid) any that name a folder of ours.
  for (const p of processesNaming(root)) {
    try {
      process.kill(p.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

/** Processes whose command line mentions `text` (Linux /proc; elsewhere nothing to check with). */
function processesNaming(text: string): { pid: number; cmdline: string }[] {
  if (!existsSync("/proc/self/cmdline")) return [];
  const found: { pid: number; cmdline: string }[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8").replaceAll("\0", " ");
    } catch {
      continue; // exited meanwhile
    }
    if (cmdline.includes(text)) found.push({ pid: Number(entry), cmdline });
  }
  return found;
}

interface BenchRun extends CliResult {
  /** The TMPDIR the run had: bench's cluster folder goes there. */
  readonly tmp: string;
}

/** Runs `lockstep bench ...args` from the build, with a TMPDIR of its own under `root`. */
async function bench(args: readonly string[], timeoutMs = 20_000): Promise<BenchRun> {
  const dir = mkdtempSync(join(root, "run-"));
  const env = { ...process.env, TMPDIR: dir, TMP: dir, TEMP: dir };
  return { ...(await runCliAsync(["bench", ...args], { env, timeoutMs })), tmp: dir };
}

/** stdout is exactly one line holding one JSON object. */
function reportOf(run: BenchRun): BenchReport {
  expect(run.code, run.stderr).toBe(0);
  const lines = run.stdout.trim().split("\n");
  expect(lines).toHaveLength(1);
  const report = JSON.parse(lines[0]!) as unknown;
  expect(report).toBeTypeOf("object");
  expect(report).not.toBeNull();
  expect(Array.isArray(report)).toBe(false);
  return report as BenchReport;
}

/** The load figures every successful run must show. */
function expectHealthyLoad(r: BenchReport, replicas: number): void {
  expect(r.ops).toBeGreaterThan(0);
  expect(r.errors).toBe(0);
  expect(r.errorKinds).toEqual({});
  expect(r.opsPerSecond).toBeGreaterThan(0);
  expect(r.elapsedSeconds).toBeGreaterThan(0);
  expect(r.opsPerSecond).toBeCloseTo(r.ops / r.elapsedSeconds, 6);
  const l = r.latencyMs;
  expect(l).not.toBeNull();
  expect(l!.p50).toBeGreaterThan(0);
  expect(l!.p50).toBeLessThanOrEqual(l!.p90);
  expect(l!.p90).toBeLessThanOrEqual(l!.p99);
  expect(l!.p99).toBeLessThanOrEqual(l!.max);
  expect(l!.mean).toBeLessThanOrEqual(l!.max);
  expect(r.replicas).toHaveLength(replicas);
  expect(r.replicas.map((p) => p.id)).toEqual(Array.from({ length: replicas }, (_, i) => i));
  expect(r.replicas.filter((p) => p.role === "leader")).toHaveLength(1);
  for (const p of r.replicas) {
    expect(p.fsyncs, `r${p.id} fsyncs`).toBeGreaterThan(0);
    expect(p.opsPerFsync).toBeCloseTo(r.ops / p.fsyncs!, 6);
    expect(p.cpuSeconds).toBeGreaterThan(0);
  }
  expect(r.clientCpuSeconds).toBeGreaterThan(0);
}

/** After bench exits: its cluster folder is gone and no process names it any more. */
function expectCleanedUp(run: BenchRun): void {
  expect(readdirSync(run.tmp), "bench left its cluster folder behind").toEqual([]);
  expect(processesNaming(run.tmp).map((p) => p.cmdline)).toEqual([]);
}

describe("lockstep bench", () => {
  it("measures a 3-replica raft cluster and prints one JSON report; --keep shows it stopped every replica", async () => {
    const run = await bench([
      "--protocol",
      "raft",
      "--replicas",
      "3",
      "--clients",
      "4",
      "--duration",
      "1",
      "--warmup",
      "1",
      "--json",
      "--keep",
    ]);
    const r = reportOf(run);
    expect(r.system).toBe("lockstep raft");
    expect(r.warmupSeconds).toBe(1);
    expect(r.clients).toBe(4);
    expect(r.connections).toBe(4); // one per client by default
    expect(r.keySize).toBe(16);
    expect(r.valueSize).toBe(64);
    expectHealthyLoad(r, 3);
    expect(run.stderr).toMatch(/^bench: 3 raft replica\(s\) up, r\d leads; 4 clients for 1 s$/m);

    // --keep leaves the folder: its configuration names every port the replicas listened on.
    const kept = /^bench: cluster folder kept at (.+)$/m.exec(run.stderr)?.[1];
    expect(kept, run.stderr).toBeDefined();
    expect(kept!.startsWith(run.tmp)).toBe(true);
    const config = validateClusterConfig(
      JSON.parse(readFileSync(join(kept!, "cluster.json"), "utf8")),
    );
    expect(config.protocol).toBe("raft");
    const ports = config.replicas.flatMap((a) => [a.port!, a.metricsPort!]);
    expect(ports).toHaveLength(6);
    for (const port of ports) expect(await canBind(port), `port ${port} still taken`).toBe(true);
    expect(processesNaming(run.tmp).map((p) => p.cmdline)).toEqual([]);
    rmSync(kept!, { recursive: true, force: true });
  });

  it("reflects --value-size, --key-size and --connections in the report", async () => {
    const run = await bench([
      "--clients",
      "4",
      "--duration",
      "1",
      "--value-size",
      "200",
      "--key-size",
      "24",
      "--connections",
      "2",
      "--warmup",
      "0",
      "--json",
    ]);
    const r = reportOf(run);
    expect(r.clients).toBe(4);
    expect(r.connections).toBe(2);
    expect(r.valueSize).toBe(200);
    expect(r.keySize).toBe(24);
    expectHealthyLoad(r, 3); // raft with 3 replicas by default
    expectCleanedUp(run);
  });

  it("runs a single-replica cluster with --protocol single", async () => {
    const run = await bench([
      "--protocol",
      "single",
      "--replicas",
      "1",
      "--clients",
      "2",
      "--duration",
      "1",
      "--warmup",
      "0",
      "--json",
    ]);
    const r = reportOf(run);
    expect(r.system).toBe("lockstep single");
    expect(r.warmupSeconds).toBe(0);
    expectHealthyLoad(r, 1);
    expect(r.replicas[0]!.role).toBe("leader");
    expectCleanedUp(run);
  });

  it("runs a primary/backup pair with init's default arbiter (a Raft group) with --protocol primary-backup", async () => {
    const run = await bench(
      [
        "--protocol",
        "primary-backup",
        "--clients",
        "2",
        "--duration",
        "1",
        "--warmup",
        "0",
        "--json",
        "--keep",
      ],
      30_000,
    );
    const r = reportOf(run);
    expect(r.system).toBe("lockstep primary-backup");
    expect(r.arbiter).toBe("raft");
    // The arbiter that ran is the one init writes by default: a Raft group of three, each with data.
    const kept = /^bench: cluster folder kept at (.+)$/m.exec(run.stderr)?.[1];
    expect(kept, run.stderr).toBeDefined();
    const arbiter = validateClusterConfig(
      JSON.parse(readFileSync(join(kept!, "arbiter", "cluster.json"), "utf8")),
    );
    expect(arbiter).toMatchObject({ protocol: "raft", service: "arbiter" });
    expect(arbiter.replicas).toHaveLength(3);
    for (const id of [0, 1, 2])
      expect(existsSync(join(kept!, "arbiter", `data-${id}`)), `arbiter data-${id}`).toBe(true);
    rmSync(kept!, { recursive: true, force: true });
    expect(r.ops).toBeGreaterThan(0);
    expect(r.errors).toBe(0);
    expect(r.replicas.map((p) => p.role).sort()).toEqual(["backup", "primary"]);
    // The output rule: every put waited for the backup's durable copy.
    for (const p of r.replicas) expect(p.fsyncs, `r${p.id} fsyncs`).toBeGreaterThan(0);
    expectCleanedUp(run);
  }, 40_000);

  it("with --arbiter single runs the pair with one arbiter process, and the table says so", async () => {
    const run = await bench(
      [
        "--protocol",
        "primary-backup",
        "--arbiter",
        "single",
        "--clients",
        "2",
        "--duration",
        "1",
        "--warmup",
        "0",
      ],
      30_000,
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(
      /^lockstep primary-backup: 2 replica\(s\) \+ arbiter \(a single process, asked only at go-live\), 2 client\(s\)/m,
    );
    // The arbiter's one replica ran in the bench folder (its data directory is there).
    expect(run.stderr).toMatch(/primary-backup replica\(s\) up/);
    expectCleanedUp(run);
  }, 40_000);

  it("with --read-only keeps one get outstanding per client, and takes --settings", async () => {
    const run = await bench([
      "--protocol",
      "single",
      "--replicas",
      "1",
      "--clients",
      "2",
      "--duration",
      "1",
      "--warmup",
      "0",
      "--read-only",
      "--settings",
      "{}",
      "--json",
    ]);
    const r = reportOf(run);
    expect(r.system).toBe("lockstep single (read-only gets)");
    expectHealthyLoad(r, 1);
    // Reads write nothing: the only fsyncs are the few opening the clients' sessions.
    expect(r.replicas[0]!.fsyncs!).toBeLessThan(r.ops);
    expectCleanedUp(run);
  });

  it("prints human tables without --json", async () => {
    const run = await bench(["--clients", "2", "--duration", "1", "--warmup", "0"]);
    expect(run.code, run.stderr).toBe(0);
    const out = run.stdout;
    expect(() => JSON.parse(out)).toThrow();
    expect(out).toMatch(
      /^lockstep raft: 3 replica\(s\), 2 client\(s\) on 2 connection\(s\), [\d.]+ s after \d+ s of warm-up, 16-byte keys, 64-byte values$/m,
    );
    // The load table: a header, then one row of numbers under it.
    const lines = out.split("\n");
    const header = lines.findIndex((line) => /\bputs\/s\b/.test(line));
    expect(header, out).toBeGreaterThanOrEqual(0);
    const columns = lines[header]!.trim().split(/\s{2,}/);
    expect(columns).toEqual(["puts", "errors", "puts/s", "p50 ms", "p90 ms", "p99 ms", "max ms"]);
    const row = lines[header + 1]!.trim().split(/\s+/).map(Number);
    expect(row).toHaveLength(columns.length);
    const cell = (name: string) => row[columns.indexOf(name)]!;
    expect(cell("puts")).toBeGreaterThan(0);
    expect(cell("errors")).toBe(0);
    expect(cell("puts/s")).toBeGreaterThan(0);
    expect(cell("p50 ms")).toBeLessThanOrEqual(cell("p99 ms"));
    expect(cell("p99 ms")).toBeLessThanOrEqual(cell("max ms"));
    // The per-replica table: one row per replica, exactly one leader, and the load generator.
    expect(out).toMatch(/^replica\s+role\s+CPU s\s+CPU %\s+fsyncs\s+puts\/fsync/m);
    const replicaRows = lines.filter((line) => /^r\d\s/.test(line));
    expect(replicaRows).toHaveLength(3);
    expect(replicaRows.filter((line) => /\sleader\s/.test(line))).toHaveLength(1);
    expect(out).toMatch(/^client\s+load\s/m);
    expectCleanedUp(run);
  });

  it("prints its usage with --help", async () => {
    const run = await bench(["--help"]);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe("");
    expect(run.stdout).toContain("Usage: lockstep bench [options]");
    expect(run.stdout).toContain("--clients");
    expect(run.stdout).toContain("--duration");
    expect(run.stdout).toMatch(/--warmup S .*\(default 5/);
    expect(readdirSync(run.tmp)).toEqual([]); // started no cluster
  });

  it("rejects bad arguments with one line on stderr and exit code 2, before starting anything", async () => {
    const cases: [readonly string[], RegExp][] = [
      [["--bogus"], /unknown option --bogus \(see lockstep/],
      [["surplus"], /unexpected argument "surplus"/],
      [["--clients", "0"], /--clients must be from 1 to 2000, got 0$/],
      [["--clients", "1.5"], /--clients expects an integer, got "1\.5"$/],
      // "-1" after an option is ambiguous to the parser; "=-1" reaches the range check.
      [["--duration", "-1"], /--duration/],
      [["--duration=-1"], /--duration must be from 1 to 3600, got -1$/],
      [["--duration", "0"], /--duration must be from 1 to 3600, got 0$/],
      [
        ["--protocol", "paxos"],
        /--protocol must be one of raft, pbft, primary-backup, single, got "paxos"$/,
      ],
      [["--replicas", "2"], /raft needs n\(f\) replicas \(3, 5, 7, ...\), at least 3; got 2$/],
      [["--replicas", "1"], /raft needs n\(f\) replicas \(3, 5, 7, ...\), at least 3; got 1$/],
      [["--protocol", "single", "--replicas", "3"], /single runs exactly one replica$/],
      [["--clients", "4", "--connections", "5"], /--connections must be from 1 to 4, got 5$/],
      [["--value-size", "0"], /--value-size must be from 1 to 1000000, got 0$/],
      [["--key-size", "abc"], /--key-size expects an integer, got "abc"$/],
      [["--json=yes"], /--json/],
      [["--settings", "{"], /--settings is not JSON/],
      [["--arbiter", "single"], /--arbiter is for --protocol primary-backup$/],
      [
        ["--protocol", "primary-backup", "--arbiter", "paxos"],
        /--arbiter must be raft \(a 3-replica group\) or single \(one process\), got "paxos"$/,
      ],
      [["--settings", "[1]"], /--settings must be a JSON object$/],
      [
        ["--protocol", "pbft", "--settings", '{"maxInFlight":0}'],
        /--settings: maxInFlight: expected an integer from 1 to 4096, got 0$/,
      ],
    ];
    const runs = await Promise.all(cases.map(([args]) => bench(args, 10_000)));
    cases.forEach(([args, message], i) => {
      const run = runs[i]!;
      const what = `bench ${args.join(" ")}: ${run.stderr}`;
      expect(run.code, what).toBe(2);
      expect(run.stdout, what).toBe("");
      const lines = run.stderr.split("\n").filter((line) => line !== "");
      expect(lines, what).toHaveLength(1);
      expect(lines[0], what).toMatch(/^lockstep: bench: /);
      expect(lines[0], what).toMatch(message);
      expect(readdirSync(run.tmp), what).toEqual([]); // no cluster folder was made
    });
  });
});
