/** A growable array of numbers (latencies, times) without boxing. */
export class Samples {
  private data = new Float64Array(1 << 12);
  length = 0;

  push(v: number): void {
    if (this.length === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = v;
  }

  /** A copy (percentiles sorts its argument in place). */
  copy(): Float64Array {
    return this.data.slice(0, this.length);
  }

  value(i: number): number {
    return this.data[i]!;
  }

  /** The index of the first value above `t`, for values pushed in ascending order. */
  indexAbove(t: number): number {
    let lo = 0;
    let hi = this.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.data[mid]! > t) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}
