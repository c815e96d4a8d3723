import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { isServicePath, loadServiceModule } from "../service/load-service.js";
import { replayCommand, type SimOptions } from "./options.js";
import { type SeedSummary, summarize } from "./seed-summary.js";
import { runSimulation } from "./simulation.js";
import { traceDocument, writeTraceFile } from "./trace/trace-document.js";
import { TraceRecorder } from "./trace/trace-recorder.js";

export interface SeedRunOptions {
  readonly base: Omit<SimOptions, "seed">;
  readonly seeds: readonly number[];
  /** Worker threads; 1 runs in this thread. */
  readonly jobs: number;
  /** Where failing seeds' history and trace go; undefined: write nothing. */
  readonly outDir?: string;
  readonly onProgress?: (done: number, failed: number) => void;
  /** Stop starting new seeds after the first failure (for hunting a planted bug). */
  readonly untilFailure?: boolean;
  /** With one seed: write its structured trace (src/sim/trace/trace-format.ts) to this file. */
  readonly traceFile?: string;
}

export interface SeedFailure {
  readonly summary: SeedSummary;
  readonly replay: string;
  readonly files: readonly string[];
}

export interface SeedRunReport {
  readonly summaries: readonly SeedSummary[];
  readonly failures: readonly SeedFailure[];
  readonly crashed: readonly { seed: number; error: string }[];
  readonly wallMs: number;
}

/**
 * Runs many seeds and collects their verdicts. A failing seed is re-run here with tracing on
 * (the same seed gives the same run, which the trace hash confirms) to write its history and
 * trace next to the command that replays it.
 */
export async function runSeeds(options: SeedRunOptions): Promise<SeedRunReport> {
  const started = performance.now();
  const summaries: SeedSummary[] = [];
  const crashed: { seed: number; error: string }[] = [];
  let failed = 0;
  const service = options.base.service;
  if (typeof service === "string" && isServicePath(service)) await loadServiceModule(service);
  // A ServicePackage given as an object holds functions, which cannot be sent to a worker.
  const jobs = typeof service === "string" ? options.jobs : 1;
  const record = (s: SeedSummary) => {
    summaries.push(s);
    if (!s.ok) failed++;
    options.onProgress?.(summaries.length + crashed.length, failed + crashed.length);
  };
  if (jobs <= 1 || options.seeds.length <= 1) {
    for (const seed of options.seeds) {
      if (options.untilFailure && failed + crashed.length > 0) break;
      try {
        record(summarize(runTraced({ ...options.base, seed }, options.traceFile)));
      } catch (error) {
        crashed.push({ seed, error: String((error as Error)?.stack ?? error) });
        options.onProgress?.(summaries.length + crashed.length, failed + crashed.length);
      }
    }
  } else {
    await runInWorkers(
      options,
      record,
      (seed, error) => {
        crashed.push({ seed, error });
        options.onProgress?.(summaries.length + crashed.length, failed + crashed.length);
      },
      () => failed + crashed.length > 0,
    );
  }
  summaries.sort((a, b) => a.options.seed - b.options.seed);
  const failures = summaries.filter((s) => !s.ok).map((s) => describeFailure(s, options.outDir));
  return { summaries, failures, crashed, wallMs: performance.now() - started };
}

async function runInWorkers(
  options: SeedRunOptions,
  record: (s: SeedSummary) => void,
  crash: (seed: number, error: string) => void,
  failedSoFar: () => boolean,
): Promise<void> {
  const queue = [...options.seeds];
  const workerUrl = new URL("./seed-worker.js", import.meta.url);
  await Promise.all(
    Array.from({ length: Math.min(options.jobs, queue.length) }, async () => {
      const worker = new Worker(workerUrl);
      try {
        for (;;) {
          if (options.untilFailure && failedSoFar()) break;
          const seed = queue.shift();
          if (seed === undefined) break;
          type Reply =
            | { ok: true; summary: SeedSummary }
            | { ok: false; seed: number; error: string };
          const reply = await new Promise<Reply>((resolve, reject) => {
            // One listener pair per seed, each removing the other: left behind, the unused
            // error listeners pile up on the long-lived worker (MaxListenersExceededWarning).
            const onMessage = (m: Reply) => {
              worker.off("error", onError);
              resolve(m);
            };
            const onError = (e: Error) => {
              worker.off("message", onMessage);
              reject(e);
            };
            worker.once("message", onMessage);
            worker.once("error", onError);
            worker.postMessage({ ...options.base, seed });
          });
          if (reply.ok) record(reply.summary);
          else crash(reply.seed, reply.error);
        }
      } finally {
        await worker.terminate();
      }
    }),
  );
}

/** Runs one seed; with a file, records its structured trace and writes it there. */
function runTraced(options: SimOptions, traceFile: string | undefined) {
  if (traceFile === undefined) return runSimulation(options);
  const recorder = new TraceRecorder();
  const result = runSimulation(options, false, recorder);
  writeTraceFile(traceFile, traceDocument(result, recorder.result()));
  return result;
}

function describeFailure(summary: SeedSummary, outDir: string | undefined): SeedFailure {
  const replay = replayCommand(summary.options);
  if (!outDir) return { summary, replay, files: [] };
  // The failure files carry the structured trace too, for `lockstep dashboard --replay`.
  const recorder = new TraceRecorder();
  const traced = runSimulation(summary.options, true, recorder);
  mkdirSync(outDir, { recursive: true });
  const base = join(outDir, `${summary.options.protocol}-seed-${summary.options.seed}`);
  const files = [`${base}.json`, `${base}.trace.txt`, `${base}.trace.json`];
  writeFileSync(
    files[0]!,
    JSON.stringify(
      {
        replay,
        traceHash: traced.traceHash,
        sameRunAsFirstAttempt: traced.traceHash === summary.traceHash,
        violations: traced.violations,
        stats: traced.stats,
        options: traced.options,
        history: traced.history,
      },
      (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString("hex") : v),
      1,
    ),
  );
  writeFileSync(files[1]!, `${traced.trace.join("\n")}\n`);
  writeTraceFile(files[2]!, traceDocument(traced, recorder.result()));
  return { summary, replay, files };
}
