import type { ReplicaId } from "../../core/ids.js";
import type { ExternalHandler, ExternalResult } from "../../core/protocol.js";
import {
  type ArbiterAnswer,
  type ArbiterRequest,
  arbiterRequestSchema,
  type Epoch,
} from "./messages.js";

/**
 * An in-memory test-and-set arbiter: the first replica to ask for an epoch wins it, and every
 * later ask for that epoch is told the same winner. The simulator runs one per run (and delays
 * or loses its answers); a real deployment replaces it by a replicated service.
 */
export class MemoryArbiter implements ExternalHandler<ArbiterRequest, ArbiterAnswer> {
  private readonly winners = new Map<Epoch, ReplicaId>();

  call(from: ReplicaId, request: ArbiterRequest): ExternalResult<ArbiterAnswer> {
    let parsed: ArbiterRequest;
    try {
      parsed = arbiterRequestSchema.parse(request);
    } catch (error) {
      return { ok: false, error: `bad arbiter request: ${(error as Error).message}` };
    }
    if (parsed.replica !== from)
      return { ok: false, error: `replica ${from} asked on behalf of ${parsed.replica}` };
    let winner = this.winners.get(parsed.epoch);
    if (winner === undefined) {
      winner = from;
      this.winners.set(parsed.epoch, winner);
    }
    return { ok: true, answer: { epoch: parsed.epoch, winner } };
  }

  /** The winner of an epoch, if decided (for tests and checks). */
  winnerOf(epoch: Epoch): ReplicaId | undefined {
    return this.winners.get(epoch);
  }
}
