import { describe, it } from "vitest";
import { primaryBackupPlantedBugs } from "../../../src/protocols/primary-backup/index.js";
import { raftPlantedBugs } from "../../../src/protocols/raft/index.js";
import { catchesWithin1000Seeds } from "./planted-bug-run.js";

describe("the simulator catches every planted Raft bug within 1000 seeds", () => {
  it.each(raftPlantedBugs.map((bug) => [bug]))(
    "raft-bug-%s",
    (bug) => catchesWithin1000Seeds(`raft-bug-${bug}`),
    900_000,
  );
});

// Primary/backup's planted bugs: each breaks one rule of the VMware FT design (the output rule,
// the arbiter, go-live, epochs, replay, the new backup).
describe("the simulator catches every planted primary/backup bug within 1000 seeds", () => {
  it.each(primaryBackupPlantedBugs.map((bug) => [bug]))(
    "primary-backup-bug-%s",
    (bug) => catchesWithin1000Seeds(`primary-backup-bug-${bug}`),
    900_000,
  );
});
