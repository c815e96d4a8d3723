import { describe, expect, it } from "vitest";
import { runCli } from "../run-cli.js";

describe("lockstep sim: pbft with a faulty client", () => {
  // The faulty client (--faulty-client) in 30% of the seeds, next to 3 correct clients, with
  // every fault kind and Byzantine replicas: 1000 seeds, about 70 s on two quiet threads
  // (npm run soak for more).
  it("passes pbft with a faulty client for 1000 seeds", () => {
    const { code, stdout } = runCli(
      [
        "sim",
        "--protocol",
        "pbft",
        "--faulty-client",
        "--seeds",
        "1000",
        "--clients",
        "3",
        "--duration",
        "1",
        "--jobs",
        "2",
      ],
      { timeoutMs: 1_200_000 },
    );
    expect(stdout, stdout.slice(-3000)).toMatch(/1000 seeds, 1000 passed, 0 failed/);
    expect(code).toBe(0);
  }, 1_200_000);
});
