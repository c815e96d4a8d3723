import type { ProtocolDefinition, WireTypes } from "../core/protocol.js";
import type { Value } from "../core/value.js";
import { createSingleProtocol } from "./single/index.js";

/** A protocol as the simulator and CLI know it: a definition plus defaults for simulation. */
export interface RegisteredProtocol {
  readonly name: string;
  readonly description: string;
  readonly definition: ProtocolDefinition<WireTypes>;
  /** Faults tolerated by default in simulation. */
  readonly defaultF: number;
  /** Settings that make simulation exercise more paths (small snapshot intervals and so on). */
  readonly simSettings: { readonly [key: string]: Value };
  /** A deliberately broken variant: the simulator is expected to find a violation. */
  readonly broken: boolean;
  /**
   * Supports membership changes: with the `membership` fault the simulator adds `spares` extra
   * replicas to the address book (not voters at the start) and adds and removes members under load.
   */
  readonly membership?: { readonly spares: number; readonly minVoters: number };
}

const registered: RegisteredProtocol[] = [
  {
    name: "single",
    description: "one replica, no fault tolerance: the baseline",
    definition: createSingleProtocol() as ProtocolDefinition<WireTypes>,
    defaultF: 0,
    simSettings: { snapshotEvery: 40 },
    broken: false,
  },
  {
    name: "single-ack-before-sync",
    description: "BROKEN single: acknowledges commands before the log write is durable",
    definition: createSingleProtocol({
      plantedBug: "ack-before-sync",
    }) as ProtocolDefinition<WireTypes>,
    defaultF: 0,
    simSettings: { snapshotEvery: 40 },
    broken: true,
  },
];

export function registerProtocol(protocol: RegisteredProtocol): void {
  if (registered.some((p) => p.name === protocol.name))
    throw new Error(`protocol ${protocol.name} registered twice`);
  registered.push(protocol);
}

export function protocolRegistry(): readonly RegisteredProtocol[] {
  return registered;
}

export function findProtocol(name: string): RegisteredProtocol {
  const found = registered.find((p) => p.name === name);
  if (!found) {
    throw new Error(
      `unknown protocol "${name}"; known: ${registered.map((p) => p.name).join(", ")}`,
    );
  }
  return found;
}
