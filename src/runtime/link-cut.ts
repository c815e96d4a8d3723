/**
 * A replica cut off from the other replicas on its supervisor's order (`lockstep up
 * --dashboard`'s "cut links" button), for demonstrations: while cut, every protocol message to
 * or from another replica is dropped and counted. The sockets stay up (their liveness pings
 * still flow, so `links` may show them live); clients, and a primary/backup replica's arbiter
 * client, are not affected. Only the process that
 * started the replica can order it, over the IPC channel it started it with.
 */
export class LinkCut {
  private isCut = false;
  private droppedOut = 0;
  private droppedIn = 0;

  get cut(): boolean {
    return this.isCut;
  }

  set(cut: boolean): void {
    this.isCut = cut;
  }

  /** Whether an outgoing peer message must be dropped (counted if so). */
  dropOutgoing(): boolean {
    if (this.isCut) this.droppedOut++;
    return this.isCut;
  }

  /** Whether an incoming peer message must be dropped (counted if so). */
  dropIncoming(): boolean {
    if (this.isCut) this.droppedIn++;
    return this.isCut;
  }

  status(): { readonly cut: boolean; readonly droppedOut: number; readonly droppedIn: number } {
    return { cut: this.isCut, droppedOut: this.droppedOut, droppedIn: this.droppedIn };
  }
}

/** The one message a supervisor sends a replica over IPC: cut or heal its links. */
export interface LinkControl {
  readonly type: "links";
  readonly cut: boolean;
}

export function isLinkControl(message: unknown): message is LinkControl {
  const m = message as { type?: unknown; cut?: unknown } | null;
  return typeof m === "object" && m !== null && m.type === "links" && typeof m.cut === "boolean";
}
