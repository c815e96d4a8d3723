import {
  type ClientReplyMessage,
  type ClientRequestMessage,
  clientReplySchema,
  clientRequestSchema,
} from "../../core/client-messages.js";
import { int, type Schema } from "../../core/schema.js";
import type { Epoch } from "./messages.js";

/**
 * Primary/backup's client messages: the shared ones (core/client-messages.ts) plus the epoch.
 * A request carries the highest epoch its client has seen, so a deposed primary learns that it
 * is deposed; a reply carries the epoch of the replica that sent it, so a client refuses an
 * answer from an epoch older than one it already saw. Optional on the wire: replies the runtime
 * makes itself (per-client limits) carry none.
 */
export type PbClientRequest = ClientRequestMessage & { readonly epoch?: Epoch };
export type PbClientReply = ClientReplyMessage & { readonly epoch?: Epoch };

const epochField = int(0);

/** `base`, plus an optional non-negative integer field `epoch`. */
function withEpoch<T>(base: Schema<T>): Schema<T & { readonly epoch?: Epoch }> {
  return {
    describe: `${base.describe}, with an optional epoch`,
    parse(x, path = "") {
      if (x === null || typeof x !== "object" || !("epoch" in x)) {
        base.parse(x, path);
        return x as T & { readonly epoch?: Epoch };
      }
      const { epoch, ...rest } = x as { epoch: unknown };
      epochField.parse(epoch, path ? `${path}.epoch` : "epoch");
      base.parse(rest, path);
      return x as T & { readonly epoch?: Epoch };
    },
  };
}

export const pbClientRequestSchema: Schema<PbClientRequest> = withEpoch(clientRequestSchema);
export const pbClientReplySchema: Schema<PbClientReply> = withEpoch(clientReplySchema);
