import { Histogram, type HistogramSnapshot } from "./prometheus.js";

/** The three kinds of client request of lockstep's client protocol. */
export type RequestKind = "command" | "query" | "admin";
export const requestKinds: readonly RequestKind[] = ["command", "query", "admin"];

interface Tracked {
  readonly kind: RequestKind;
  readonly at: number;
}

/** How a request or reply is matched: kind, session and number (seq, qid or aid). */
function matchKey(kind: RequestKind, client: unknown, n: unknown): string | undefined {
  if (typeof client !== "string" || typeof n !== "number") return undefined;
  return `${kind}\u0000${client}\u0000${n}`;
}

function requestKey(msg: unknown): { kind: RequestKind; key: string } | undefined {
  if (typeof msg !== "object" || msg === null) return undefined;
  const m = msg as {
    type?: unknown;
    client?: unknown;
    seq?: unknown;
    qid?: unknown;
    aid?: unknown;
  };
  const kind: RequestKind | undefined =
    m.type === "request"
      ? "command"
      : m.type === "query"
        ? "query"
        : m.type === "admin"
          ? "admin"
          : undefined;
  if (!kind) return undefined;
  const key = matchKey(
    kind,
    m.client,
    kind === "command" ? m.seq : kind === "query" ? m.qid : m.aid,
  );
  return key === undefined ? undefined : { kind, key };
}

function replyKey(msg: unknown): { kind: RequestKind; key: string; result: string } | undefined {
  if (typeof msg !== "object" || msg === null) return undefined;
  const m = msg as {
    type?: unknown;
    client?: unknown;
    seq?: unknown;
    qid?: unknown;
    aid?: unknown;
    result?: { ok?: unknown; error?: unknown };
  };
  const kind: RequestKind | undefined =
    m.type === "reply"
      ? "command"
      : m.type === "queryReply"
        ? "query"
        : m.type === "adminReply"
          ? "admin"
          : undefined;
  if (!kind) return undefined;
  const key = matchKey(
    kind,
    m.client,
    kind === "command" ? m.seq : kind === "query" ? m.qid : m.aid,
  );
  if (key === undefined) return undefined;
  const result =
    m.result?.ok === true ? "ok" : typeof m.result?.error === "string" ? m.result.error : "error";
  return { kind, key, result };
}

export interface RequestLatencyOptions {
  /** At most this many requests waiting for a reply are remembered (oldest forgotten first). */
  readonly maxTracked?: number;
  /** A request unanswered for this long is forgotten (it was answered elsewhere or never). */
  readonly maxAgeMs?: number;
  readonly now?: () => number;
}

/**
 * Client request latency as this replica sees it: from the arrival of a request to the moment
 * its reply is handed to the network, matched by (kind, session, seq/qid/aid). A retry of a
 * request still waiting keeps the first arrival time. Messages of other shapes (a protocol with
 * its own client messages) are not measured. Memory is bounded.
 */
export class RequestLatency {
  private readonly waiting = new Map<string, Tracked>();
  private readonly histograms = new Map<RequestKind, Histogram>();
  /** Replies handed to the network, by kind and result ("ok" or an error code). */
  readonly replies = new Map<string, number>();
  forgotten = 0;
  private readonly maxTracked: number;
  private readonly maxAgeMs: number;
  private readonly now: () => number;

  constructor(options: RequestLatencyOptions = {}) {
    this.maxTracked = options.maxTracked ?? 100_000;
    this.maxAgeMs = options.maxAgeMs ?? 120_000;
    this.now = options.now ?? (() => performance.now());
    for (const kind of requestKinds) this.histograms.set(kind, new Histogram());
  }

  onRequest(msg: unknown): void {
    const k = requestKey(msg);
    if (!k || this.waiting.has(k.key)) return;
    if (this.waiting.size >= this.maxTracked) {
      const oldest = this.waiting.keys().next().value;
      if (oldest !== undefined) this.waiting.delete(oldest);
      this.forgotten++;
    }
    this.waiting.set(k.key, { kind: k.kind, at: this.now() });
  }

  onReply(msg: unknown): void {
    const k = replyKey(msg);
    if (!k) return;
    const label = `${k.kind}\u0000${k.result}`;
    this.replies.set(label, (this.replies.get(label) ?? 0) + 1);
    const tracked = this.waiting.get(k.key);
    if (!tracked) return;
    this.waiting.delete(k.key);
    this.histograms.get(tracked.kind)?.observe((this.now() - tracked.at) / 1000);
  }

  /** Forgets requests older than maxAgeMs (call now and then, e.g. once a second). */
  sweep(): void {
    const cutoff = this.now() - this.maxAgeMs;
    for (const [key, tracked] of this.waiting) {
      if (tracked.at >= cutoff) break; // insertion order is arrival order
      this.waiting.delete(key);
      this.forgotten++;
    }
  }

  get pending(): number {
    return this.waiting.size;
  }

  histogram(kind: RequestKind): HistogramSnapshot {
    return this.histograms.get(kind)!.snapshot();
  }

  quantile(kind: RequestKind, q: number): number | undefined {
    return this.histograms.get(kind)!.quantile(q);
  }

  /** Replies by kind and result, for the status page. */
  replyCounts(): { kind: string; result: string; count: number }[] {
    return [...this.replies].map(([label, count]) => {
      const [kind = "", result = ""] = label.split("\u0000");
      return { kind, result, count };
    });
  }
}
