import type { LeaderClientWire } from "../../src/core/leader-client.js";
import type {
  CoreInput,
  CoreOutput,
  CoreStatus,
  ExternalHandler,
  ExternalResult,
  ProtocolCore,
} from "../../src/core/protocol.js";

/** A test-and-set arbiter's request and answer, as a protocol would declare them. */
export interface TasRequest {
  readonly op: "tas";
  readonly key: string;
}
export interface TasAnswer {
  readonly granted: boolean;
}

export interface GatedWire extends LeaderClientWire {
  readonly external: { readonly request: TasRequest; readonly answer: TasAnswer };
}

/** The first replica to ask for a key owns it for good (an in-memory arbiter). */
export class TestArbiter implements ExternalHandler<TasRequest, TasAnswer> {
  private readonly owners = new Map<string, number>();
  call(from: number, request: TasRequest): ExternalResult<TasAnswer> {
    const owner = this.owners.get(request.key) ?? from;
    this.owners.set(request.key, owner);
    return { ok: true, answer: { granted: owner === from } };
  }
}

const retryTicks = 20;

/**
 * Wraps a leader-client core so that it serves clients only after winning a test-and-set on
 * an arbiter (a primary/backup replica going live), asked through the contract's `external`
 * output. Client requests wait (bounded) until then; unanswered asks are retried.
 */
export class ArbiterGatedCore implements ProtocolCore<GatedWire> {
  readonly id: number;
  private granted = false;
  private asked: number | undefined;
  private nextId = 1;
  private sinceAsked = 0;
  private held: CoreInput<GatedWire>[] = [];

  constructor(private readonly inner: ProtocolCore<LeaderClientWire>) {
    this.id = inner.id;
  }

  status(): CoreStatus {
    const s = this.inner.status();
    return this.granted ? s : { ...s, role: "waiting", leader: undefined };
  }

  step(input: CoreInput<GatedWire>): readonly CoreOutput<GatedWire>[] {
    if (input.type === "external") return this.onAnswer(input.id, input.result);
    if (this.granted || input.type !== "client") {
      const out: CoreOutput<GatedWire>[] = [
        ...this.inner.step(input as CoreInput<LeaderClientWire>),
      ];
      if (!this.granted && input.type === "tick") this.maybeAsk(out);
      return out;
    }
    if (this.held.length < 1000) this.held.push(input);
    return [];
  }

  private maybeAsk(out: CoreOutput<GatedWire>[]): void {
    if (this.asked !== undefined && ++this.sinceAsked < retryTicks) return;
    this.asked = this.nextId++;
    this.sinceAsked = 0;
    out.push({ type: "external", id: this.asked, request: { op: "tas", key: "live" } });
  }

  private onAnswer(id: number, result: ExternalResult<TasAnswer>): CoreOutput<GatedWire>[] {
    if (id !== this.asked) return [];
    this.asked = undefined;
    if (!result.ok || !result.answer.granted) return [];
    this.granted = true;
    const out: CoreOutput<GatedWire>[] = [];
    for (const input of this.held)
      out.push(...this.inner.step(input as CoreInput<LeaderClientWire>));
    this.held = [];
    return out;
  }
}
