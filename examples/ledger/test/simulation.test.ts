import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { defaultSimOptions, type QueryContext, runSimulation } from "lockstep";
import { describe, expect, test } from "vitest";
import { requireBuild } from "../../../test/runtime/helpers.js";
import ledgerPackage, {
  Ledger,
  type LedgerAnswer,
  type LedgerQuery,
  ledger,
} from "../src/index.js";

// The ledger in the deterministic simulator with every fault kind, checked against its model
// (linearizability), for replica agreement and for exactly-once execution.

const root = fileURLToPath(new URL("../../../", import.meta.url));
const cli = join(root, "dist/cli/main.js");
const builtLedger = join(root, "dist-examples/ledger/src/index.js");
const failuresDir = mkdtempSync(join(tmpdir(), "ledger-sim-"));

const base = {
  ...defaultSimOptions,
  protocol: "raft",
  service: ledgerPackage,
  clients: 4,
  duration: 2,
};

describe("ledger in the simulator", () => {
  test("200 seeds with all faults (lockstep sim --service on the built module): linearizable, replicas agree", () => {
    requireBuild();
    if (!existsSync(builtLedger)) throw new Error(`${builtLedger} is missing: run "npm run build"`);
    const args = [cli, "sim", "--protocol", "raft", "--service", builtLedger, "--seeds", "200"];
    args.push("--duration", "2", "--clients", "4", "--jobs", "2", "--out", failuresDir);
    const run = spawnSync(process.execPath, args, { encoding: "utf8", timeout: 900_000 });
    expect(run.stdout).toMatch(/raft: 200 seeds, 200 passed, 0 failed/);
    expect(run.status).toBe(0);
  }, 900_000);

  test("a seed replays bit for bit; without a model only agreement is checked", () => {
    const first = runSimulation({ ...base, seed: 7 });
    const again = runSimulation({ ...base, seed: 7 });
    expect(again.traceHash).toBe(first.traceHash);
    const unmodelled = runSimulation({
      ...base,
      seed: 7,
      service: { definition: ledgerPackage.definition, workload: ledgerPackage.workload! },
    });
    expect(unmodelled.ok).toBe(true);
    expect(unmodelled.linearizability).toBeUndefined();
    expect(unmodelled.traceHash).toBe(first.traceHash);
  });

  test("the model catches a ledger that loses money", () => {
    /** Reports one unit less than the ledger holds. */
    class LeakyLedger extends Ledger {
      override query(q: LedgerQuery, ctx: QueryContext): LedgerAnswer {
        const answer = super.query(q, ctx);
        return "total" in answer ? { ...answer, total: answer.total - 1 } : answer;
      }
    }
    const leaky = { ...ledger, create: () => new LeakyLedger() };
    const result = runSimulation({
      ...base,
      seed: 3,
      faults: [],
      service: { ...ledgerPackage, definition: leaky },
    });
    expect(result.ok).toBe(false);
    expect(result.violations.join("\n")).toMatch(/linearizab/);
  });
});
