import type { ClientId } from "../../core/ids.js";
import type { Digest, Request } from "./messages.js";

/** A client request this replica holds until it executes; its request timer runs from `since`. */
export interface Waiting {
  readonly request: Request;
  readonly digest: Digest;
  since: number;
}

/**
 * The requests a replica holds for its request timer (OSDI'99 §4.4), by digest (hex), with an
 * index by client so that one client's executed request can settle the others it made moot.
 */
export class WaitingRequests {
  private readonly byKey = new Map<string, Waiting>();
  private readonly byClient = new Map<ClientId, Set<string>>();

  get size(): number {
    return this.byKey.size;
  }

  has(key: string): boolean {
    return this.byKey.has(key);
  }

  get(key: string): Waiting | undefined {
    return this.byKey.get(key);
  }

  keys(): IterableIterator<string> {
    return this.byKey.keys();
  }

  values(): IterableIterator<Waiting> {
    return this.byKey.values();
  }

  add(key: string, w: Waiting): void {
    this.byKey.set(key, w);
    let keys = this.byClient.get(w.request.client);
    if (!keys) {
      keys = new Set();
      this.byClient.set(w.request.client, keys);
    }
    keys.add(key);
  }

  delete(key: string): void {
    const w = this.byKey.get(key);
    if (!w) return;
    this.byKey.delete(key);
    const keys = this.byClient.get(w.request.client);
    keys?.delete(key);
    if (keys?.size === 0) this.byClient.delete(w.request.client);
  }

  clear(): void {
    this.byKey.clear();
    this.byClient.clear();
  }

  /**
   * `client`'s request with `timestamp` executed, saying it no longer waits for anything below
   * `ackedBelow`: its held requests with that timestamp (another body for the same timestamp
   * can only get the recorded answer) or below it are done too. Returns the digests dropped.
   * Without this, a copy that never executes as such (a session opening sent twice, a retry
   * with other bytes) would hold the request timer until it changed the view for nothing.
   */
  settle(client: ClientId, timestamp: number, ackedBelow: number): Digest[] {
    const keys = this.byClient.get(client);
    if (!keys) return [];
    const dropped: Digest[] = [];
    for (const key of [...keys]) {
      const w = this.byKey.get(key)!;
      const t = w.request.timestamp;
      if (t === timestamp || t < ackedBelow) {
        this.delete(key);
        dropped.push(w.digest);
      }
    }
    return dropped;
  }
}
