import type { ReplyResult } from "../core/client-messages.js";
import type { ClientOperation } from "../core/client-operation.js";
import type { Random } from "../core/prng.js";
import type { ClientCore, ClientOutput, WireTypes } from "../core/protocol.js";
import type { Value } from "../core/value.js";
import type { Operation } from "../model/history.js";

/** An operation a simulated client has invoked and not yet seen finish. */
interface InFlight {
  readonly opId: number;
  /** Its id in the run's history (unique across clients). */
  readonly historyId: number;
  readonly input: ClientOperation;
  readonly call: number;
}

/**
 * A simulated client process: one operation at a time (like a Jepsen process), drawn from the
 * service's workload, recorded in the history with virtual call and return times.
 */
export class SimClient<W extends WireTypes> {
  readonly history: Operation<ClientOperation, Value>[] = [];
  current: InFlight | undefined;
  completed = 0;
  failed = 0;
  /** Definite refusals because of the client's role or a revoked key (the roles workload). */
  forbidden = 0;
  indeterminate = 0;
  private nextOpId = 1;

  constructor(
    readonly index: number,
    readonly name: string,
    readonly core: ClientCore<W>,
    readonly random: Random,
  ) {}

  invoke(op: ClientOperation, now: number, historyId: number): readonly ClientOutput<W>[] {
    if (this.current) throw new Error(`client ${this.name} invoked while busy`);
    const opId = this.nextOpId++;
    this.current = { opId, historyId, input: op, call: now };
    return this.core.step({ type: "invoke", opId, op });
  }

  /** Records a finished operation; returns false if it was not the current one. */
  finish(opId: number, result: ReplyResult, indeterminate: boolean, now: number): boolean {
    const current = this.current;
    if (!current || current.opId !== opId) return false;
    if (result.ok) {
      this.completed++;
      this.record(now, result.value);
    } else if (indeterminate) {
      this.indeterminate++;
      this.record(undefined, undefined);
    } else {
      // A definite refusal: the operation did not take effect, so it is not part of the history.
      this.failed++;
      if (result.error === "forbidden") this.forbidden++;
      this.current = undefined;
    }
    return true;
  }

  /** At the end of a run: an operation still in flight may or may not have happened. */
  abandon(): void {
    if (!this.current) return;
    this.indeterminate++;
    this.record(undefined, undefined);
  }

  private record(ret: number | undefined, output: Value | undefined): void {
    const current = this.current!;
    this.current = undefined;
    this.history.push({
      id: current.historyId,
      client: this.name,
      input: current.input,
      call: current.call,
      ret,
      output,
    });
  }
}
