/**
 * The Prometheus text exposition format (version 0.0.4), just what the replica's /metrics
 * endpoint needs: counters, gauges and histograms with labels.
 */
export type Labels = { readonly [name: string]: string | number };

function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function formatLabels(labels: Labels | undefined): string {
  if (!labels) return "";
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(String(v))}"`);
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

function formatNumber(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (n === Number.POSITIVE_INFINITY) return "+Inf";
  if (n === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(n);
}

/** Builds one exposition text; each metric family gets its HELP and TYPE once. */
export class MetricsWriter {
  private readonly lines: string[] = [];
  private readonly declared = new Set<string>();

  private declare(name: string, type: string, help: string): void {
    if (this.declared.has(name)) return;
    this.declared.add(name);
    this.lines.push(`# HELP ${name} ${help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`);
    this.lines.push(`# TYPE ${name} ${type}`);
  }

  private sample(name: string, value: number, labels?: Labels): void {
    this.lines.push(`${name}${formatLabels(labels)} ${formatNumber(value)}`);
  }

  gauge(name: string, help: string, value: number, labels?: Labels): this {
    this.declare(name, "gauge", help);
    this.sample(name, value, labels);
    return this;
  }

  counter(name: string, help: string, value: number, labels?: Labels): this {
    this.declare(name, "counter", help);
    this.sample(name, value, labels);
    return this;
  }

  histogram(name: string, help: string, histogram: HistogramSnapshot, labels?: Labels): this {
    this.declare(name, "histogram", help);
    let cumulative = 0;
    histogram.bounds.forEach((bound, i) => {
      cumulative += histogram.counts[i] ?? 0;
      this.sample(`${name}_bucket`, cumulative, { ...labels, le: formatNumber(bound) });
    });
    this.sample(`${name}_bucket`, histogram.count, { ...labels, le: "+Inf" });
    this.sample(`${name}_sum`, histogram.sum, labels);
    this.sample(`${name}_count`, histogram.count, labels);
    return this;
  }

  text(): string {
    return `${this.lines.join("\n")}\n`;
  }
}

export interface HistogramSnapshot {
  /** Upper bounds of the finite buckets, increasing. */
  readonly bounds: readonly number[];
  /** Observations per bucket (not cumulative); the last element counts those above every bound. */
  readonly counts: readonly number[];
  readonly count: number;
  readonly sum: number;
}

/** Latency buckets in seconds: 0.25 ms to 10 s. */
export const latencyBuckets: readonly number[] = [
  0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** A fixed-bucket histogram (no allocation per observation). */
export class Histogram {
  private readonly counts: number[];
  private count = 0;
  private sum = 0;

  constructor(private readonly bounds: readonly number[] = latencyBuckets) {
    for (let i = 1; i < bounds.length; i++) {
      if (!((bounds[i] ?? 0) > (bounds[i - 1] ?? 0))) {
        throw new RangeError("histogram bounds must increase");
      }
    }
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }

  observe(value: number): void {
    let i = 0;
    while (i < this.bounds.length && value > (this.bounds[i] ?? 0)) i++;
    this.counts[i] = (this.counts[i] ?? 0) + 1;
    this.count++;
    this.sum += value;
  }

  snapshot(): HistogramSnapshot {
    return { bounds: this.bounds, counts: [...this.counts], count: this.count, sum: this.sum };
  }

  /** An estimate of quantile q (0..1) from the buckets: the upper bound of the bucket holding it. */
  quantile(q: number): number | undefined {
    if (this.count === 0) return undefined;
    const rank = Math.ceil(q * this.count);
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i] ?? 0;
      if (seen >= rank) return this.bounds[i] ?? Number.POSITIVE_INFINITY;
    }
    return Number.POSITIVE_INFINITY;
  }
}
