import type { LoadProgress } from "./put-load.js";

/**
 * The progress bar that `lockstep bench` and `bench/etcd.sh` show on stderr while a load runs:
 * redrawn in place on a terminal, one line per report otherwise (logs stay readable).
 */
export interface ProgressPrinter {
  readonly everyMs: number;
  readonly onProgress: (progress: LoadProgress) => void;
  /** Erases the bar (on a terminal) before the results are printed. */
  readonly clear: () => void;
}

export function progressPrinter(
  durationS: number,
  stream: NodeJS.WriteStream = process.stderr,
): ProgressPrinter {
  const tty = stream.isTTY === true;
  let lastOps = 0;
  let lastAt = 0;
  const show = (line: string) => stream.write(tty ? `\r${line}\x1b[K` : `${line}\n`);
  return {
    everyMs: tty ? 250 : 1_000,
    onProgress: ({ elapsedMs, ops, errors }) => {
      if (elapsedMs < 0) {
        show(`warming up: ${(-elapsedMs / 1000).toFixed(1)} s before the measurement starts`);
        return;
      }
      const rate = ((ops - lastOps) * 1000) / Math.max(1, elapsedMs - lastAt);
      lastOps = ops;
      lastAt = elapsedMs;
      const width = 30;
      const filled = Math.min(width, Math.round((elapsedMs / (durationS * 1000)) * width));
      show(
        `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${(elapsedMs / 1000).toFixed(1)}/${durationS} s  ${ops} puts  ${rate.toFixed(0)}/s  ${errors} errors`,
      );
    },
    clear: () => {
      if (tty) stream.write("\r\x1b[K");
    },
  };
}
