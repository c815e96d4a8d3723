import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * The simulator's long seed runs, longest first, each on one thread (--jobs 1). Started first,
 * two of them keep both cores busy, and the last ones run beside real-process tests (which
 * mostly wait on timers and sockets) instead of becoming the tail of the run.
 */
const longRuns = [
  "test/cli/sim-crash-protocols.test.ts",
  "test/cli/sim-raft.test.ts",
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
    // real processes, and each simulator file uses one thread.
    maxWorkers: 2,
    sequence: { sequencer: LongRunsFirst },
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
