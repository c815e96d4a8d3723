import { closeSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { ReplicaOutput } from "../runtime/local-cluster.js";

/** The path of replica `id`'s log file in `dir`. */
export function replicaLogPath(dir: string, id: number): string {
  return join(dir, `replica-${id}.log`);
}

/**
 * Appends each replica's stderr lines to `<dir>/replica-<i>.log`, across restarts (`lockstep up`,
 * the demo). Writes are synchronous: at the info level a replica logs a few lines a second, and a
 * Ctrl-C that ends the process right after must not lose the last lines (they are the interesting
 * ones). A file that cannot be opened or written is reported once and then left alone: losing a
 * log must not take the cluster down.
 */
export class ReplicaLogs {
  private readonly fds = new Map<number, number>();
  private readonly broken = new Set<number>();
  private closed = false;

  constructor(
    private readonly dir: string,
    private readonly onError: (id: number, file: string, error: Error) => void,
  ) {}

  write(id: number, output: ReplicaOutput): void {
    if (this.closed || this.broken.has(id)) return;
    const file = replicaLogPath(this.dir, id);
    try {
      let fd = this.fds.get(id);
      if (fd === undefined) {
        fd = openSync(file, "a");
        this.fds.set(id, fd);
      }
      writeSync(fd, `${output.kind === "log" ? JSON.stringify(output.line) : output.text}\n`);
    } catch (error) {
      this.broken.add(id);
      this.onError(id, file, error as Error);
    }
  }

  close(): void {
    this.closed = true;
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
  }
}
