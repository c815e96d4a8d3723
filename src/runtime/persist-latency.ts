import { Histogram } from "./prometheus.js";

/**
 * Time from a persist handed to storage to storage reporting it durable (group commit included).
 * Persist ids increase, and durability is reported as "every id ≤ upTo", so a queue suffices.
 */
export class PersistLatency {
  readonly histogram = new Histogram();
  private readonly ids: number[] = [];
  private readonly times: number[] = [];
  private head = 0;

  constructor(private readonly now: () => number = () => performance.now()) {}

  started(id: number): void {
    this.ids.push(id);
    this.times.push(this.now());
  }

  durable(upTo: number): void {
    const now = this.now();
    while (this.head < this.ids.length && (this.ids[this.head] ?? 0) <= upTo) {
      this.histogram.observe((now - (this.times[this.head] ?? now)) / 1000);
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.ids.length) {
      this.ids.splice(0, this.head);
      this.times.splice(0, this.head);
      this.head = 0;
    }
  }
}
