import type { StateMachine } from "../../core/state-machine.js";
import { unreachable } from "../shared/unreachable.js";
import { decodeKvSnapshot, encodeKvSnapshot } from "./snapshot.js";
import type { KvCommand, KvQuery, KvQueryResult, KvResult } from "./types.js";

/**
 * The key-value store. A Map keeps insertion order, which differs between replicas that restored
 * from a snapshot and replicas that replayed the log, so nothing here iterates it except the
 * snapshot, which sorts.
 */
export class KvStateMachine implements StateMachine<KvCommand, KvResult, KvQuery, KvQueryResult> {
  private data = new Map<string, string>();

  apply(cmd: KvCommand): KvResult {
    switch (cmd.op) {
      case "put": {
        const prev = this.data.get(cmd.key) ?? null;
        this.data.set(cmd.key, cmd.value);
        return { ok: true, prev };
      }
      case "get":
        return { ok: true, value: this.data.get(cmd.key) ?? null };
      case "del":
        return { ok: true, existed: this.data.delete(cmd.key) };
      case "cas": {
        const current = this.data.get(cmd.key) ?? null;
        if (current !== cmd.expected) return { ok: false, value: current };
        if (cmd.value === null) this.data.delete(cmd.key);
        else this.data.set(cmd.key, cmd.value);
        return { ok: true, value: cmd.value };
      }
      default:
        return unreachable(cmd, "kv apply");
    }
  }

  query(q: KvQuery): KvQueryResult {
    return { ok: true, value: this.data.get(q.key) ?? null };
  }

  snapshot(): Uint8Array {
    return encodeKvSnapshot(this.data);
  }

  restore(snapshot: Uint8Array): void {
    // decode builds a fresh map and throws before we touch ours, so a bad snapshot leaves the
    // replica as it was.
    this.data = decodeKvSnapshot(snapshot);
  }
}
