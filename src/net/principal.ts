import type { Principal } from "../core/crypto.js";
import { isReplicaId, type ReplicaId } from "../core/ids.js";

/** A principal parsed from untrusted text: a replica id or a client id. */
export type ParsedPrincipal =
  | { readonly type: "replica"; readonly id: ReplicaId }
  | { readonly type: "client"; readonly id: string };

/**
 * Longest client id. A client's session id is `<client id>.<12 hex digits>` (and the leader
 * client may append `.<n>` after an expiry), and session ids are at most 64 characters on the
 * wire, so a client id must leave room for the suffixes.
 */
export const maxClientIdLength = 40;

/**
 * Why `id` cannot be a client id, or undefined when it can: 1 to 40 characters, no control
 * characters (they garble logs and key file names), and no ':' (an id like `c:r1` or `r1:x`
 * reads as a principal in logs and messages and could be mistaken for a replica).
 */
export function clientIdProblem(id: string): string | undefined {
  if (id.length === 0 || id.length > maxClientIdLength) {
    return `a client id is 1 to ${maxClientIdLength} characters, got ${id.length}`;
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point
  if (/[\u0000-\u001f\u007f-\u009f]/.test(id)) {
    return `a client id may not contain control characters, got ${JSON.stringify(id)}`;
  }
  if (id.includes(":")) {
    return `a client id may not contain ':' (it would read as a principal), got ${JSON.stringify(id)}`;
  }
  return undefined;
}

/** Parses `r<id>` (id 0..1023, no leading zeros) or `c:<client id>` (clientIdProblem's rules). */
export function parsePrincipal(text: string): ParsedPrincipal | undefined {
  if (text.startsWith("c:")) {
    const id = text.slice(2);
    return clientIdProblem(id) === undefined ? { type: "client", id } : undefined;
  }
  if (!/^r(0|[1-9][0-9]{0,3})$/.test(text)) return undefined;
  const id = Number(text.slice(1));
  return isReplicaId(id) ? { type: "replica", id } : undefined;
}

export function isPrincipal(text: string): text is Principal {
  return parsePrincipal(text) !== undefined;
}
