import { simulatedCluster } from "../../../src/core/config.js";
import { createRandom } from "../../../src/core/prng.js";
import {
  type CoreInput,
  type CoreOutput,
  type DurableState,
  emptyDurableState,
} from "../../../src/core/protocol.js";
import type { Value } from "../../../src/core/value.js";
import { NodeCrypto } from "../../../src/platform/node-crypto.js";
import {
  PrimaryBackupCore,
  type PrimaryBackupMessage,
  type PrimaryBackupPlantedBug,
  type PrimaryBackupWire,
} from "../../../src/protocols/primary-backup/index.js";

export type Out = CoreOutput<PrimaryBackupWire>;
export type In = CoreInput<PrimaryBackupWire>;

const crypto = new NodeCrypto({ self: "r0", macKeys: new Map(), verifyKeys: new Map() });

/** Fixed settings so tests count ticks exactly: heartbeat 1, failure after 4 silent ticks. */
export const testSettings = { heartbeatTicks: 1, failTicks: 4, arbiterRetryTicks: 3 };

export function makeCore(
  id: number,
  options: {
    settings?: { [key: string]: Value };
    durable?: DurableState;
    bug?: PrimaryBackupPlantedBug;
    n?: number;
  } = {},
): PrimaryBackupCore {
  const config = simulatedCluster("primary-backup", options.n ?? 2, 1, {
    ...testSettings,
    ...options.settings,
  });
  return new PrimaryBackupCore(
    {
      id,
      config,
      random: createRandom(100 + id),
      crypto,
      durable: options.durable ?? emptyDurableState,
    },
    options.bug,
  );
}

export const tick = (now = 1_000): In => ({ type: "tick", now, mono: now });

export function ofType<T extends Out["type"]>(out: readonly Out[], type: T) {
  return out.filter((o): o is Extract<Out, { type: T }> => o.type === type);
}

export function sentTo(out: readonly Out[], to: number): PrimaryBackupMessage[] {
  return ofType(out, "send")
    .filter((o) => o.to === to)
    .map((o) => o.msg);
}

/** Every persist id in `out` is durable: feeds `persisted` for the highest one. */
export function persistAll(core: PrimaryBackupCore, out: readonly Out[]): Out[] {
  const ids = ofType(out, "persist").map((p) => p.id);
  if (ids.length === 0) return [];
  return [...core.step({ type: "persisted", upTo: Math.max(...ids) })];
}

/**
 * Ticks `core` until it asks the arbiter (making its writes durable on the way), and answers
 * with `winner`. Returns everything the core emitted after the answer.
 */
export function campaignAndAnswer(core: PrimaryBackupCore, winner: number): Out[] {
  for (let i = 0; i < 100; i++) {
    const out = [...core.step(tick())];
    out.push(...persistAll(core, out));
    for (const o of ofType(out, "external")) {
      return [
        ...core.step({
          type: "external",
          id: o.id,
          result: { ok: true, answer: { epoch: o.request.epoch, winner } },
        }),
      ];
    }
  }
  throw new Error("the core never asked the arbiter");
}

/**
 * Delivers every peer message in `out` from `from` to `to`, persisting what the receiver writes
 * at once, and returns what the receiver emitted.
 */
export function deliver(from: number, out: readonly Out[], to: PrimaryBackupCore): Out[] {
  const emitted: Out[] = [];
  for (const msg of sentTo(out, to.id)) {
    const step = [...to.step({ type: "peer", from, msg })];
    emitted.push(...step, ...persistAll(to, step));
  }
  return emitted;
}

/** Brings up replica 0 as primary of epoch 1 with replica 1 as its paired backup. */
export function pairedPair(settings: { [key: string]: Value } = {}) {
  const p = makeCore(0, { settings });
  const b = makeCore(1, { settings });
  const live = campaignAndAnswer(p, 0);
  let toBackup = [...live, ...persistAll(p, live)];
  // A few rounds of append/ack until the backup acked the whole log and was told it is paired.
  for (let i = 0; i < 4; i++) {
    const fromBackup = deliver(1, [], b).concat(deliver(0, toBackup, b));
    toBackup = deliver(1, fromBackup, p);
    toBackup.push(...p.step(tick()));
  }
  deliver(0, toBackup, b);
  return { p, b };
}
