import type { TimelineEvent } from "../shared/live-wire.js";
import { formatClock } from "./format.js";

/** The timeline, newest first, at most `limit` lines. */
export class TimelineList {
  private lastSeq = 0;

  constructor(
    private readonly list: HTMLOListElement,
    private readonly limit = 500,
  ) {}

  /** Starts over (a new event stream's snapshot: the server may have restarted, numbering anew). */
  reset(): void {
    this.lastSeq = 0;
    this.list.replaceChildren();
  }

  add(events: readonly TimelineEvent[]): void {
    for (const event of events) {
      if (event.seq <= this.lastSeq) continue;
      this.lastSeq = event.seq;
      const item = document.createElement("li");
      item.dataset.kind = event.kind;
      const kind = document.createElement("span");
      kind.className = "kind";
      kind.textContent = event.kind;
      item.append(`${formatClock(event.at)} `, kind, ` ${event.text}`);
      this.list.prepend(item);
    }
    while (this.list.children.length > this.limit) this.list.lastElementChild?.remove();
  }
}
