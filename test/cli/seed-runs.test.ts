import { setPriority } from "node:os";

/**
 * The simulator's long seed runs: every protocol's 1000 seeds, one `lockstep sim --jobs 2` after
 * another (the planted-bug hunts are planted-*.test.ts, run last). They are one test file,
 * started first (vitest.config.ts), so that one vitest worker runs them back to back while the
 * other runs the real-process tests beside them. Those mostly wait on sockets and timers, and
 * they must not wait on the simulator: this worker, and the sim processes it starts, run at a
 * lower priority (nice 10), so the simulator takes only the CPU the other tests leave.
 */
try {
  setPriority(10);
} catch {
  // Not allowed here (some containers): the runs are the same, only less polite.
}

await import("./seed-runs/sim-crash-protocols.js");
await import("./seed-runs/sim-raft.js");
await import("./seed-runs/sim-pbft.js");
await import("./seed-runs/sim-pbft-faulty-client.js");
