import type { Principal } from "../core/crypto.js";
import { isClientId, isReplicaId, type ReplicaId } from "../core/ids.js";

/** A principal parsed from untrusted text: a replica id or a client id. */
export type ParsedPrincipal =
  | { readonly type: "replica"; readonly id: ReplicaId }
  | { readonly type: "client"; readonly id: string };

/** Parses `r<id>` (id 0..1023, no leading zeros) or `c:<client id>` (1..64 characters). */
export function parsePrincipal(text: string): ParsedPrincipal | undefined {
  if (text.startsWith("c:")) {
    const id = text.slice(2);
    return isClientId(id) ? { type: "client", id } : undefined;
  }
  if (!/^r(0|[1-9][0-9]{0,3})$/.test(text)) return undefined;
  const id = Number(text.slice(1));
  return isReplicaId(id) ? { type: "replica", id } : undefined;
}

export function isPrincipal(text: string): text is Principal {
  return parsePrincipal(text) !== undefined;
}
