import { connect, type LockstepClient } from "../client/index.js";
import type { ClusterConfig } from "../core/config.js";
import type { ReplicaId } from "../core/ids.js";
import type { ExternalHandler, ExternalResult } from "../core/protocol.js";
import type { Value } from "../core/value.js";
import type { KeyFile } from "../net/keys.js";
import type { ArbiterAnswer, ArbiterRequest } from "../protocols/primary-backup/index.js";
import { arbiterRequestSchema } from "../protocols/primary-backup/index.js";

/** Where a primary/backup replica reaches its arbiter: a lockstep cluster running `arbiter`. */
export interface ArbiterEndpoint {
  /** The arbiter group's configuration (DIR/arbiter/cluster.json from lockstep init). */
  readonly config: ClusterConfig;
  /** This replica's client key for the arbiter group (DIR/keys/arbiter-client-<i>.json). */
  readonly keys: KeyFile;
  /**
   * Time allowed for one test-and-set, in ms. A lost or slow answer ends in `{ ok: false }`,
   * which the core never takes as a win; it asks again later.
   */
  readonly timeoutMs: number;
}

export const defaultArbiterTimeoutMs = 1_000;

/** A closable ExternalHandler: the runtime's arbiter client. */
export interface ArbiterHandler extends ExternalHandler<ArbiterRequest, ArbiterAnswer> {
  close(): Promise<void>;
}

/**
 * The arbiter's answer to `request`, if it is one: `{ epoch, winner }` for the epoch asked about.
 * An answer for another epoch, or `winner: null` (the arbiter has forgotten that epoch), is no
 * answer: going live on it could put two primaries in one epoch.
 */
export function checkArbiterAnswer(
  request: ArbiterRequest,
  answer: Value,
): ExternalResult<ArbiterAnswer> {
  if (typeof answer !== "object" || answer === null || Array.isArray(answer))
    return { ok: false, error: "the arbiter's answer is not an object" };
  const { epoch, winner } = answer as { readonly epoch?: Value; readonly winner?: Value };
  if (epoch !== request.epoch)
    return {
      ok: false,
      error: `the arbiter answered for epoch ${JSON.stringify(epoch)}, asked about ${request.epoch}`,
    };
  if (winner === null)
    return { ok: false, error: `the arbiter no longer decides epoch ${request.epoch} (too old)` };
  if (typeof winner !== "number" || !Number.isInteger(winner) || winner < 0 || winner > 1023)
    return { ok: false, error: `the arbiter named no valid winner: ${JSON.stringify(winner)}` };
  return { ok: true, answer: { epoch: request.epoch, winner } };
}

/**
 * The runtime's arbiter: each request of the core (`{ epoch, replica }`) becomes a `claim`
 * command on the arbiter group through the ordinary client (exactly once, following its leader),
 * bounded by its own timeout. Claims are idempotent (the same epoch's winner every time), so the
 * core's re-asks after a timeout are safe.
 */
export function arbiterHandler(endpoint: ArbiterEndpoint): ArbiterHandler {
  let client: Promise<LockstepClient> | undefined;
  let closed = false;
  const clientOf = (): Promise<LockstepClient> => {
    client ??= connect({
      config: endpoint.config,
      keys: endpoint.keys,
      timeoutMs: endpoint.timeoutMs,
    });
    // A failed connect (bad keys, config) is retried on the next request.
    client.catch(() => {
      client = undefined;
    });
    return client;
  };
  return {
    async call(from: ReplicaId, request: ArbiterRequest): Promise<ExternalResult<ArbiterAnswer>> {
      if (closed) return { ok: false, error: "the arbiter client is closed" };
      let parsed: ArbiterRequest;
      try {
        parsed = arbiterRequestSchema.parse(request);
      } catch (error) {
        return { ok: false, error: `bad arbiter request: ${(error as Error).message}` };
      }
      if (parsed.replica !== from)
        return { ok: false, error: `replica ${from} asked on behalf of ${parsed.replica}` };
      try {
        const answer = await (await clientOf()).invoke(
          { op: "claim", epoch: parsed.epoch, replica: from },
          { timeoutMs: endpoint.timeoutMs },
        );
        return checkArbiterAnswer(parsed, answer);
      } catch (error) {
        return { ok: false, error: `arbiter: ${(error as Error).message}` };
      }
    },
    async close(): Promise<void> {
      closed = true;
      const c = client;
      client = undefined;
      if (c) await c.then((x) => x.close()).catch(() => {});
    },
  };
}
