/** A progress line on stderr: redrawn in place on a terminal, a line per tenth otherwise. */
export class ProgressBar {
  private readonly tty: boolean;
  private lastTenth = -1;
  private readonly started = performance.now();

  constructor(
    private readonly total: number,
    private readonly label: string,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {
    this.tty = Boolean(stream.isTTY);
  }

  update(done: number, note = ""): void {
    const elapsed = (performance.now() - this.started) / 1000;
    const eta = done > 0 ? (elapsed / done) * (this.total - done) : 0;
    if (this.tty) {
      const width = 30;
      const filled = Math.round((done / this.total) * width);
      const bar = "#".repeat(filled) + ".".repeat(width - filled);
      this.stream.write(
        `\r[${bar}] ${done}/${this.total} ${this.label} ${note} eta ${eta.toFixed(0)}s\x1b[K`,
      );
      return;
    }
    const tenth = Math.floor((done / this.total) * 10);
    if (tenth !== this.lastTenth) {
      this.lastTenth = tenth;
      this.stream.write(`${done}/${this.total} ${this.label} ${note} (${elapsed.toFixed(1)}s)\n`);
    }
  }

  finish(): void {
    if (this.tty) this.stream.write("\r\x1b[K");
  }
}
