import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseTrace, rewriteTrace, TraceRunner } from "./trace-runner.js";

// Each file in testdata/ is a trace (see trace-runner.ts for the format). The expected output
// is part of the file; RAFT_TRACE_REWRITE=1 regenerates it (review the diff before committing).
const dir = join(import.meta.dirname, "testdata");
const rewrite = process.env.RAFT_TRACE_REWRITE === "1";

describe("raft traces (testdata/*.txt)", () => {
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".txt"))) {
    it(file, () => {
      const path = join(dir, file);
      const text = readFileSync(path, "utf8");
      const runner = new TraceRunner();
      const outputs: string[] = [];
      for (const block of parseTrace(text)) {
        let output: string;
        try {
          output = runner.run(block.command);
        } catch (error) {
          throw new Error(`${file}:${block.line} ${block.command}: ${(error as Error).message}`);
        }
        outputs.push(output);
        if (!rewrite) expect(output, `${file}:${block.line} ${block.command}`).toBe(block.expected);
      }
      if (rewrite) writeFileSync(path, rewriteTrace(text, outputs));
    });
  }
});
