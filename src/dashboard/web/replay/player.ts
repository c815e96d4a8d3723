import { lowerBound } from "./trace-index.js";

/**
 * The replay's clock: a time and the event at or before it. Steps go event by event; playing
 * moves time forward at `speed` virtual ms per real second, one animation frame at a time.
 */
export class Player {
  time = 0;
  /** The last event at or before `time` (-1 before the first). */
  index = -1;
  speed = 10;
  playing = false;
  onPlayingChange: (playing: boolean) => void = () => {};
  private lastFrame = 0;

  constructor(
    private readonly times: Float64Array,
    private readonly endTime: number,
    private readonly changed: () => void,
  ) {}

  seekIndex(i: number): void {
    if (this.times.length === 0) return;
    this.index = Math.min(Math.max(i, 0), this.times.length - 1);
    this.time = this.times[this.index]!;
    this.changed();
  }

  seekTime(t: number): void {
    this.time = Math.min(Math.max(t, 0), this.endTime);
    this.index = lowerBound(this.times, this.time + 1e-9) - 1;
    this.changed();
  }

  step(delta: 1 | -1): void {
    if (this.playing) this.toggle();
    this.seekIndex(this.index + delta);
  }

  toggle(): void {
    this.playing = !this.playing;
    this.onPlayingChange(this.playing);
    if (!this.playing) return;
    if (this.time >= this.endTime) this.seekIndex(0);
    this.lastFrame = performance.now();
    requestAnimationFrame((now) => this.frame(now));
  }

  private frame(now: number): void {
    if (!this.playing) return;
    const dt = Math.max(0, now - this.lastFrame) / 1000;
    this.lastFrame = now;
    this.seekTime(this.time + dt * this.speed);
    if (this.time >= this.endTime) {
      this.playing = false;
      this.onPlayingChange(false);
      return;
    }
    requestAnimationFrame((t) => this.frame(t));
  }
}
