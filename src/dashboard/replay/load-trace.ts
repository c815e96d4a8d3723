import { readFile } from "node:fs/promises";
import { traceFormat, traceVersion } from "../../sim/trace/trace-format.js";

/**
 * Reads a structured simulator trace and checks that it is one, so that a wrong file fails
 * here with one line rather than as a blank page. Returns the file's bytes, served as they are.
 */
export async function loadTraceFile(file: string): Promise<Buffer> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "";
    const reason =
      code === "ENOENT"
        ? "no such file"
        : code === "EISDIR"
          ? "it is a directory"
          : code || String(error);
    throw new Error(`cannot read trace file ${file}: ${reason}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString("utf8"));
  } catch (error) {
    const why = (error as Error).message.split("\n")[0];
    throw new Error(`${file} is not a simulator trace: invalid JSON (${why})`);
  }
  const head =
    typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>) : {};
  if (head.format !== traceFormat) {
    throw new Error(
      `${file} is not a simulator trace: no "format": "${traceFormat}" (write one with lockstep sim --seed S --trace FILE)`,
    );
  }
  if (head.version !== traceVersion) {
    throw new Error(
      `${file} is a ${traceFormat} of version ${String(head.version)}; this lockstep reads version ${traceVersion}`,
    );
  }
  for (const key of ["lanes", "messages", "faults", "operations", "statuses"]) {
    if (!Array.isArray(head[key]))
      throw new Error(`${file} is a damaged simulator trace: "${key}" is missing`);
  }
  return bytes;
}
