import { describe, it } from "vitest";
import { pbftPlantedBugs } from "../../../src/protocols/pbft/index.js";
import { catchesWithin1000Seeds } from "./planted-bug-run.js";

// PBFT's planted bugs: each breaks one rule of Castro & Liskov's protocol (quorums, certificates,
// the view change, checkpoints, authentication, agreed time, the client's vote). They run with
// the Byzantine adversary and the same short runs as PBFT's 1000 seeds in sim-cli.test.ts.
//
// A tentative execution needs rolling back only when a correct replica prepared a batch that at
// most f correct replicas prepared and a view change then does without it; the random faults of
// these short runs never produce one, the enumerated Twins scenarios under load do (seed 107;
// docs/protocols/pbft.md, "Tentative execution"), so that bug is hunted there.
const caughtByTwins: ReadonlySet<string> = new Set(["tentative-without-rollback"]);

describe("the simulator catches every planted PBFT bug within 1000 seeds", () => {
  it.each(pbftPlantedBugs.filter((bug) => !caughtByTwins.has(bug)).map((bug) => [bug]))(
    "pbft-bug-%s",
    (bug) => catchesWithin1000Seeds(`pbft-bug-${bug}`, ["--clients", "3", "--duration", "1"]),
    900_000,
  );
  it.each([...caughtByTwins].map((bug) => [bug]))(
    "pbft-bug-%s (Twins scenarios)",
    (bug) =>
      catchesWithin1000Seeds(`pbft-bug-${bug}`, [
        "--twins",
        "--clients",
        "3",
        "--duration",
        "1",
        "--faults",
        "none",
      ]),
    900_000,
  );
});
