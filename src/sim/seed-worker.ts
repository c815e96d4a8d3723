import { parentPort } from "node:worker_threads";
import type { SimOptions } from "./options.js";
import { summarize } from "./seed-summary.js";
import { runSimulation } from "./simulation.js";

// A worker thread that runs seeds it is sent, one at a time, and reports each summary.
parentPort?.on("message", (options: SimOptions) => {
  try {
    parentPort?.postMessage({ ok: true, summary: summarize(runSimulation(options)) });
  } catch (error) {
    parentPort?.postMessage({
      ok: false,
      seed: options.seed,
      error: String((error as Error)?.stack ?? error),
    });
  }
});
