import { Histogram, type HistogramSnapshot } from "./prometheus.js";

/** The three kinds of client request of lockstep's client protocol. */
export type RequestKind = "command" | "query" | "admin";
export const requestKinds: readonly RequestKind[] = ["command", "query", "admin"];

interface Tracked {
  readonly kind: RequestKind;
  readonly at: number;
}

/** The fields of client-protocol messages this module looks at (all untrusted). */
interface MessageFields {
  readonly type?: unknown;
  readonly client?: unknown;
  readonly seq?: unknown;
  readonly qid?: unknown;
  readonly aid?: unknown;
  readonly result?: { readonly ok?: unknown; readonly error?: unknown };
}

const requestTypes = new Map<unknown, RequestKind>([
  ["request", "command"],
  ["query", "query"],
  ["admin", "admin"],
]);
const replyTypes = new Map<unknown, RequestKind>([
  ["reply", "command"],
  ["queryReply", "query"],
  ["adminReply", "admin"],
]);

/**
 * How a request or reply is matched: kind, session and number (seq, qid or aid), so a reply
 * finds the request it answers.
 */
function matchKey(
  msg: unknown,
  types: ReadonlyMap<unknown, RequestKind>,
): { kind: RequestKind; key: string; m: MessageFields } | undefined {
  if (typeof msg !== "object" || msg === null) return undefined;
  const m = msg as MessageFields;
  const kind = types.get(m.type);
  if (!kind) return undefined;
  const n = kind === "command" ? m.seq : kind === "query" ? m.qid : m.aid;
  if (typeof m.client !== "string" || typeof n !== "number") return undefined;
  return { kind, key: `${kind}\u0000${m.client}\u0000${n}`, m };
}

function requestKey(msg: unknown): { kind: RequestKind; key: string } | undefined {
  const match = matchKey(msg, requestTypes);
  return match && { kind: match.kind, key: match.key };
}

function replyKey(msg: unknown): { kind: RequestKind; key: string; result: string } | undefined {
  const match = matchKey(msg, replyTypes);
  if (!match) return undefined;
  const r = match.m.result;
  const result = r?.ok === true ? "ok" : typeof r?.error === "string" ? r.error : "error";
  return { kind: match.kind, key: match.key, result };
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
