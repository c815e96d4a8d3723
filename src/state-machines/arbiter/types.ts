/**
 * The arbiter service: primary/backup's atomic test-and-set, replicated by lockstep itself.
 * `claim` asks for an epoch: the first replica to claim it wins it for good and every later claim
 * for it is told the same winner. `winner` reads an epoch's winner.
 */

/** Highest epoch and replica id a claim may name (epochs count failovers; ids fit a config). */
export const ARBITER_MAX_EPOCH = Number.MAX_SAFE_INTEGER;
export const ARBITER_MAX_REPLICA = 1023;
/**
 * Epochs whose winner the arbiter remembers. Beyond that the oldest are forgotten and every
 * claim or read at or below the forgotten floor answers `winner: null` ("too old to decide"),
 * which never lets a replica go live: a replica asks for the epoch after the newest it has seen.
 */
export const ARBITER_KEPT_EPOCHS = 1024;

export type ArbiterClaim = {
  readonly op: "claim";
  readonly epoch: number;
  readonly replica: number;
};
export type ArbiterWinnerRead = { readonly op: "winner"; readonly epoch: number };
export type ArbiterCommand = ArbiterClaim | ArbiterWinnerRead;
export type ArbiterQuery = ArbiterWinnerRead;

/** The epoch's winner; null for a read of an undecided epoch, or any op at or below the floor. */
export type ArbiterResult = { readonly epoch: number; readonly winner: number | null };
