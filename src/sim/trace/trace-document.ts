import { writeFileSync } from "node:fs";
import { findProtocol } from "../../protocols/registry.js";
import { replayCommand, type SimOptions } from "../options.js";
import { simServiceLabel } from "../sim-service.js";
import type { SimResult } from "../simulation.js";
import { jsonSafe } from "./json-safe.js";
import {
  type JsonValue,
  type SimTrace,
  type TraceVerdict,
  traceFormat,
  traceVersion,
} from "./trace-format.js";
import type { RecordedRun } from "./trace-recorder.js";

/** The trace document of a finished run: what the recorder saw, and the checker's verdict. */
export function traceDocument(result: SimResult, run: RecordedRun): SimTrace {
  const options = result.options;
  return {
    format: traceFormat,
    version: traceVersion,
    protocol: options.protocol,
    seed: options.seed,
    options: optionsAsJson(options),
    replay: replayCommand(options),
    traceHash: result.traceHash,
    epochName: findProtocol(options.protocol).definition.status.epochName,
    endTime: result.stats.simulatedMs,
    ...(run.faultsStoppedAt !== undefined ? { faultsStoppedAt: run.faultsStoppedAt } : {}),
    lanes: run.lanes,
    messages: run.messages,
    faults: run.faults,
    operations: run.operations,
    statuses: run.statuses,
    notes: run.notes,
    limits: run.limits,
    verdict: verdictOf(result),
  };
}

export function writeTraceFile(file: string, trace: SimTrace): void {
  writeFileSync(file, `${JSON.stringify(trace)}\n`);
}

function optionsAsJson(options: SimOptions): { [key: string]: JsonValue } {
  const out: { [key: string]: JsonValue } = {};
  for (const [key, value] of Object.entries(options)) {
    out[key] = key === "service" ? simServiceLabel(options.service) : jsonSafe(value);
  }
  return out;
}

function verdictOf(result: SimResult): TraceVerdict {
  const lin = result.linearizability;
  const bad = lin?.partitions.find((p) => p.verdict === "violation")?.counterexample;
  const first = result.violations[0];
  return {
    ok: result.ok,
    violations: result.violations,
    ...(first !== undefined ? { invariant: first.split("\n")[0]! } : {}),
    linearizability: lin ? lin.verdict : "not checked (no model)",
    ...(bad
      ? {
          counterexample: {
            stuck: bad.stuckAt.map((op) => op.id),
            linearized: bad.linearized,
            explanation: bad.explanation,
          },
        }
      : {}),
  };
}
