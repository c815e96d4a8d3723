import { isPlainObject } from "../../core/schema.js";
import type { Value } from "../../core/value.js";
import type { Epoch } from "./messages.js";

/**
 * What a replica keeps across restarts besides its log: the newest epoch it knows, and whether
 * it may take over after that epoch, i.e. it holds every entry whose output a client may have
 * seen in it (the epoch's primary, or its in-sync backup). Only such a replica asks the
 * arbiter for the next epoch, so the winner never lacks an acknowledged entry.
 */
export interface PbHardState {
  readonly epoch: Epoch;
  readonly eligible: boolean;
  /**
   * The highest epoch this replica ever asked the arbiter for, written before asking. Winning
   * an epoch it asked for in an earlier incarnation does not let it go live in that epoch: the
   * earlier incarnation may have, and logged entries that this one lost.
   */
  readonly asked: Epoch;
}

/** A replica that never ran: epoch 0, in which every (empty) replica is in sync. */
export const initialHardState: PbHardState = { epoch: 0, eligible: true, asked: 0 };

export function hardStateValue(state: PbHardState): Value {
  return { epoch: state.epoch, eligible: state.eligible, asked: state.asked };
}

export function parseHardState(value: Value | undefined): PbHardState {
  if (value === undefined) return initialHardState;
  if (
    !isPlainObject(value) ||
    typeof value.epoch !== "number" ||
    !Number.isInteger(value.epoch) ||
    value.epoch < 0 ||
    typeof value.eligible !== "boolean" ||
    typeof value.asked !== "number" ||
    !Number.isInteger(value.asked)
  ) {
    throw new Error(`primary-backup: stored hard state is malformed: ${JSON.stringify(value)}`);
  }
  return { epoch: value.epoch, eligible: value.eligible, asked: value.asked };
}
