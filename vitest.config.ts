import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * Test files that run longest, started first so that they are not the tail of the run: the
 * simulator's seed runs (one file, run back to back on one worker at a lower priority while
 * the other worker takes the rest) and the network-namespace partitions.
 */
const longRuns = ["test/cli/seed-runs.test.ts", "test/netns/partitions.test.ts"];

/** Simulator runs kept for the end, when the workers the real-process tests held are free. */
const lastRuns = ["test/cli/planted-bugs.test.ts", "test/cli/planted-pbft-bugs.test.ts"];

class LongRunsFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (file: TestSpecification): number => {
      const first = longRuns.findIndex((path) => file.moduleId.endsWith(path));
      if (first >= 0) return first;
      const last = lastRuns.findIndex((path) => file.moduleId.endsWith(path));
      return last >= 0 ? longRuns.length + 1 + last : longRuns.length;
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
    // real processes, and the simulator's seed runs soak up the CPU they leave.
    maxWorkers: 2,
    sequence: { sequencer: LongRunsFirst },
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
