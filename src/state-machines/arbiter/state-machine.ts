import type { StateMachine } from "../../core/state-machine.js";
import { decodeArbiterSnapshot, encodeArbiterSnapshot } from "./snapshot.js";
import type { ArbiterCommand, ArbiterQuery, ArbiterResult } from "./types.js";
import { ArbiterWinners } from "./winners.js";

/** The test-and-set arbiter as a replicated state machine (see types.ts). */
export class ArbiterStateMachine
  implements StateMachine<ArbiterCommand, ArbiterResult, ArbiterQuery, ArbiterResult>
{
  private state = new ArbiterWinners();

  apply(cmd: ArbiterCommand): ArbiterResult {
    return this.state.apply(cmd);
  }

  query(q: ArbiterQuery): ArbiterResult {
    // A read never changes state: apply only writes for a claim.
    return this.state.apply(q);
  }

  snapshot(): Uint8Array {
    return encodeArbiterSnapshot(this.state);
  }

  restore(snapshot: Uint8Array): void {
    this.state = decodeArbiterSnapshot(snapshot);
  }
}
