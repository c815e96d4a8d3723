import { openSnapshot, SnapshotError, sealSnapshot } from "../shared/snapshot.js";
import { isValueArray, isValueRecord } from "../shared/values.js";
import { ARBITER_KEPT_EPOCHS, ARBITER_MAX_REPLICA } from "./types.js";
import { ArbiterWinners } from "./winners.js";

const SERVICE = "arbiter";
const VERSION = 1;

/** State layout: `{ floor, winners: [[epoch, replica], ...] }`, epochs ascending. */
export function encodeArbiterSnapshot(state: ArbiterWinners): Uint8Array {
  const winners = [...state.winners].sort((a, b) => a[0] - b[0]);
  return sealSnapshot(SERVICE, VERSION, { floor: state.floor, winners });
}

export function decodeArbiterSnapshot(bytes: Uint8Array): ArbiterWinners {
  const state = openSnapshot(SERVICE, VERSION, bytes);
  const bad = (why: string) => new SnapshotError(`arbiter snapshot: ${why}`);
  if (!isValueRecord(state) || Object.keys(state).length !== 2)
    throw bad("state must be { floor, winners }");
  const { floor, winners } = state;
  if (typeof floor !== "number" || !Number.isSafeInteger(floor) || floor < 0)
    throw bad("floor must be a non-negative integer");
  if (!isValueArray(winners) || winners.length > ARBITER_KEPT_EPOCHS)
    throw bad(`winners must be a list of at most ${ARBITER_KEPT_EPOCHS} pairs`);
  const map = new Map<number, number>();
  for (const pair of winners) {
    if (!isValueArray(pair) || pair.length !== 2) throw bad("each winner must be [epoch, replica]");
    const [epoch, replica] = pair;
    if (
      typeof epoch !== "number" ||
      !Number.isSafeInteger(epoch) ||
      epoch <= floor ||
      map.has(epoch)
    )
      throw bad("winner epochs must be distinct integers above the floor");
    if (
      typeof replica !== "number" ||
      !Number.isInteger(replica) ||
      replica < 0 ||
      replica > ARBITER_MAX_REPLICA
    )
      throw bad(`winner replicas must be integers from 0 to ${ARBITER_MAX_REPLICA}`);
    map.set(epoch, replica);
  }
  return new ArbiterWinners(map, floor);
}
