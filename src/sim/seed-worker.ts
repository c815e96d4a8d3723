import { parentPort } from "node:worker_threads";
import { isServicePath, loadServiceModule } from "../service/load-service.js";
import type { SimOptions } from "./options.js";
import { summarize } from "./seed-summary.js";
import { runSimulation } from "./simulation.js";

// A worker thread that runs seeds it is sent, one at a time, and reports each summary.
parentPort?.on("message", async (options: SimOptions) => {
  try {
    // A service module is loaded once per thread; the seed runner has already checked it loads.
    if (typeof options.service === "string" && isServicePath(options.service)) {
      await loadServiceModule(options.service);
    }
    parentPort?.postMessage({ ok: true, summary: summarize(runSimulation(options)) });
  } catch (error) {
    parentPort?.postMessage({
      ok: false,
      seed: options.seed,
      error: String((error as Error)?.stack ?? error),
    });
  }
});
