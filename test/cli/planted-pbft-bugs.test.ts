// The planted-bug hunts of test/cli/seed-runs/planted-pbft-bugs.ts. They run last (vitest.config.ts): by
// then the real-process tests are done, and each takes a worker the long seed runs leave free.
await import("./seed-runs/planted-pbft-bugs.js");
