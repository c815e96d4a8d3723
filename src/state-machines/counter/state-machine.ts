import type { StateMachine } from "../../core/state-machine.js";
import { unreachable } from "../shared/unreachable.js";
import { decodeCounterSnapshot, encodeCounterSnapshot } from "./snapshot.js";
import type { CounterCommand, CounterQuery, CounterQueryResult, CounterResult } from "./types.js";

/**
 * One integer. Every add returns the new value, so a command applied twice (a retry that the
 * replication layer failed to deduplicate) shows up as a jump no sequential order explains.
 */
export class CounterStateMachine
  implements StateMachine<CounterCommand, CounterResult, CounterQuery, CounterQueryResult>
{
  private value = 0;

  apply(cmd: CounterCommand): CounterResult {
    switch (cmd.op) {
      case "add": {
        const next = this.value + cmd.delta;
        if (!Number.isSafeInteger(next)) return { value: this.value, error: "overflow" };
        this.value = next;
        return { value: next };
      }
      case "read":
        return { value: this.value };
      default:
        return unreachable(cmd, "counter apply");
    }
  }

  query(): CounterQueryResult {
    return { value: this.value };
  }

  snapshot(): Uint8Array {
    return encodeCounterSnapshot(this.value);
  }

  restore(snapshot: Uint8Array): void {
    this.value = decodeCounterSnapshot(snapshot);
  }
}
