/** Seconds with two decimals ("0.41"). */
export function seconds(ms: number): string {
  return (ms / 1000).toFixed(2);
}

/**
 * The demo's terminal: narration on stdout, each line stamped with the time since the demo
 * began, and one live progress line on stderr. On a terminal the progress line is redrawn in
 * place and is wiped before each narration line (both streams usually share the terminal, and a
 * narration line written after a half-drawn progress line would be garbled); otherwise it is
 * written as a plain line (the caller writes about one a second), so logs and pipes stay readable.
 */
export class Screen {
  private readonly tty: boolean;
  private progressLine = "";
  private silent = false;

  constructor(
    /** Milliseconds since the demo began. */
    readonly elapsed: () => number,
    private readonly out: NodeJS.WriteStream = process.stdout,
    private readonly err: NodeJS.WriteStream = process.stderr,
  ) {
    this.tty = Boolean(err.isTTY);
  }

  /** Whether the progress line is redrawn in place (then it may be drawn often). */
  get redraws(): boolean {
    return this.tty;
  }

  /** A narration line: `[  3.02 s] text`. */
  say(text: string): void {
    this.print(`[${seconds(this.elapsed()).padStart(6)} s] ${text}`);
  }

  /** A line on stdout without a time stamp (headers, the summary). */
  print(text: string): void {
    if (this.silent) return;
    if (this.tty && this.progressLine !== "") this.err.write("\r\x1b[K");
    this.out.write(`${text}\n`);
    if (this.tty && this.progressLine !== "") this.err.write(this.progressLine);
  }

  /** Shows `text` as the progress line. */
  progress(text: string): void {
    if (this.silent) return;
    if (this.tty) {
      // Cut to the terminal's width: a line that wraps can no longer be redrawn in place.
      const width = this.err.columns > 1 ? this.err.columns - 1 : text.length;
      this.progressLine = `\r${text.slice(0, width)}\x1b[K`;
      this.err.write(this.progressLine);
    } else {
      this.err.write(`${text}\n`);
    }
  }

  /**
   * Drops all later output: after Ctrl-C the demo's steps fail one after another as the replicas
   * go down, and those failures are not news.
   */
  silence(): void {
    this.endProgress();
    this.silent = true;
  }

  /** Removes the progress line (before the summary, or on exit). */
  endProgress(): void {
    if (this.tty && this.progressLine !== "") this.err.write("\r\x1b[K");
    this.progressLine = "";
  }
}
