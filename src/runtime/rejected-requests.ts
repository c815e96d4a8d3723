import type { ClientReplyMessage } from "../core/client-messages.js";
import type { ClientId } from "../core/ids.js";
import { refuseMalformed } from "../core/request-admission.js";
import type { Schema } from "../core/schema.js";
import { decode } from "../platform/codec.js";
import { ClientRoutes } from "./client-routes.js";

/** Accepts any decoded MessagePack as it is: only refuseMalformed reads it, field by field. */
const unchecked: Schema<unknown> = { describe: "any MessagePack", parse: (x) => x };

/**
 * The refusal for a client frame the request schema rejected, if it names a session the
 * connection may speak for and a request to answer; undefined (drop, already counted) otherwise.
 */
export function refuseRejectedRequest(
  principal: ClientId,
  frame: Uint8Array,
  error: unknown,
): ClientReplyMessage | undefined {
  let raw: unknown;
  try {
    raw = decode(frame, unchecked);
  } catch {
    return undefined; // not MessagePack at all: nothing names a request
  }
  const session = (raw as { client?: unknown } | null)?.client;
  if (typeof session !== "string" || !ClientRoutes.mayUse(principal, session)) return undefined;
  return refuseMalformed(raw, (error as Error)?.message ?? String(error));
}
