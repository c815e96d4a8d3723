import type {
  CoreInput,
  CoreOutput,
  CoreStatus,
  ProtocolCore,
  WireTypes,
} from "../core/protocol.js";
import type { ReplicatedService } from "../core/replicated-service.js";
import { ReplicaNode } from "../replica/replica-node.js";
import type { Side, TwinsTopology } from "./twins-scenario.js";

/** One copy of a twinned replica: a correct core and the service it applies to. */
export interface TwinCopy {
  readonly core: ProtocolCore<WireTypes>;
  readonly service: ReplicatedService;
}

/**
 * A Byzantine replica made of two correct ones (Twins): two copies of the same replica, same
 * identity, same keys, each talking to its own side of the network. Neither copy lies; the
 * fault is that both speak, which is how a real equivocating replica looks from outside (two
 * pre-prepares for one sequence number, two votes for one slot, two view-changes), without a
 * hand-written lie.
 *
 * To the simulator it is one core that only sends: each copy runs inside a ReplicaNode of its
 * own (its own service, its own storage that is durable at once and lost on a crash: a faulty
 * replica's disk does not matter for correctness), and what the copies send leaves only towards
 * the copy's side of the current topology. A peer message goes to every copy whose side holds
 * the sender; a client request to every copy the clients reach.
 */
export class TwinReplica implements ProtocolCore<WireTypes> {
  private readonly nodes: readonly ReplicaNode<WireTypes>[];
  private out: CoreOutput<WireTypes>[] = [];
  /** What the copies said, by copy: for traces and for tests that the twin did speak. */
  readonly sent: [number, number] = [0, 0];

  constructor(
    readonly id: number,
    copies: readonly [TwinCopy, TwinCopy],
    private readonly topology: TwinsTopology,
  ) {
    this.nodes = copies.map((copy, k) => this.nodeFor(copy, k as Side));
  }

  private nodeFor(copy: TwinCopy, side: Side): ReplicaNode<WireTypes> {
    const node: ReplicaNode<WireTypes> = new ReplicaNode<WireTypes>(copy.core, copy.service, {
      sendPeer: (to, msg) => {
        if (!this.topology.reaches(side, to)) return;
        this.sent[side]++;
        this.out.push({ type: "send", to, msg, after: 0 });
      },
      sendClient: (client, msg) => {
        if (!this.topology.reachesClients(side)) return;
        this.sent[side]++;
        this.out.push({ type: "reply", client, msg, after: 0 });
      },
      // Durable at once (ReplicaNode takes the re-entrant call): the copies' disks are not
      // under test, and each copy's writes stay its own.
      persist: (id) => node.durable(id),
    });
    return node;
  }

  step(input: CoreInput<WireTypes>): readonly CoreOutput<WireTypes>[] {
    this.out = [];
    for (let k = 0; k < this.nodes.length; k++) {
      const side = k as Side;
      switch (input.type) {
        case "peer":
          if (this.topology.reaches(side, input.from)) this.nodes[k]!.handle(input);
          break;
        case "client":
          if (this.topology.reachesClients(side)) this.nodes[k]!.handle(input);
          break;
        case "tick":
          this.nodes[k]!.handle(input);
          break;
        default:
          // Only sends leave the twin, so the driver has nothing else to answer.
          break;
      }
    }
    return this.out;
  }

  status(summaryOnly?: boolean): CoreStatus {
    return this.nodes[0]!.core.status(summaryOnly);
  }
}
