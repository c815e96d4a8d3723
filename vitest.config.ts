import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * The simulator's long seed runs, longest first. They keep both cores busy for most of the run;
 * started first, they finish while the real-process tests (which mostly wait on timers and
 * sockets) run beside them on the second worker, instead of becoming the tail of the run.
 */
const longRuns = [
  "test/cli/sim-crash-protocols.test.ts",
  "test/cli/planted-bugs.test.ts",
  "test/cli/sim-pbft.test.ts",
  "test/cli/planted-pbft-bugs.test.ts",
  "test/cli/sim-pbft-faulty-client.test.ts",
  "test/netns/partitions.test.ts",
];

class LongRunsFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (file: TestSpecification): number => {
      const at = longRuns.findIndex((path) => file.moduleId.endsWith(path));
      return at < 0 ? longRuns.length : at;
    };
    return sorted
      .map((file, order) => ({ file, order }))
      .sort((a, b) => rank(a.file) - rank(b.file) || a.order - b.order)
      .map(({ file }) => file);
  }
}

export default defineConfig({
  // The examples import "lockstep" as a user would; in tests that is this repository's source.
  resolve: { alias: { lockstep: fileURLToPath(new URL("./src/index.ts", import.meta.url)) } },
  test: {
    include: ["test/**/*.test.ts", "examples/**/*.test.ts"],
    pool: "forks",
    // Two workers even on two cores (vitest's default there is one): most test files wait on
    // real processes, and the simulator's files pace themselves with --jobs.
    maxWorkers: 2,
    sequence: { sequencer: LongRunsFirst },
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
