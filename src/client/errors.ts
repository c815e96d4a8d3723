import type { ErrorCode } from "../core/client-messages.js";
import type { ReplicaId } from "../core/ids.js";

/**
 * Why a client call failed:
 * - `timeout`: no answer within the call's time limit;
 * - `aborted`: the caller's AbortSignal fired;
 * - `closed`: the client was closed (before or during the call);
 * - the protocol's ErrorCodes (`invalid`, `session-expired`, `apply-failed`, …, see
 *   the ErrorCode type).
 */
export type LockstepErrorCode = "timeout" | "aborted" | "closed" | ErrorCode;

/**
 * A failed call. `indeterminate` says whether the operation may still have taken effect:
 * true after a timeout, an abort or a close while it was in flight, and for `session-expired`
 * and `stale`; false when it certainly did not (it was never sent, or the service refused it) —
 * except `apply-failed`, which means the command ran and threw (its effects before the throw
 * remain).
 */
export class LockstepError extends Error {
  constructor(
    readonly code: LockstepErrorCode,
    message: string,
    readonly indeterminate: boolean,
    /** A leader hint that came with the refusal, if any. */
    readonly leader?: ReplicaId,
  ) {
    super(message);
    this.name = "LockstepError";
  }
}

const indeterminateNote =
  "the operation may still take effect: the client keeps retrying it with the same sequence " +
  "number until it is answered or the client is closed";

/** `refusal`: a replica refused the client as another cluster's (said first: the likely cause). */
export function timeoutError(ms: number, refusal?: string): LockstepError {
  const cause = refusal === undefined ? "" : `${refusal}; `;
  return new LockstepError(
    "timeout",
    `${cause}no answer within ${ms} ms; ${indeterminateNote}`,
    true,
  );
}

/** The cluster refused this client's key: it was rotated out (see LockstepClient). */
export function keyRetiredError(reason: string, sent: boolean): LockstepError {
  return new LockstepError(
    "forbidden",
    `the cluster refused this client's key (${reason}); ${
      sent
        ? "the operation was sent and may have taken effect at a replica that had not applied the rotation yet; the client no longer retries it"
        : "the request was not sent and did not take effect"
    }`,
    sent,
  );
}

export function abortedError(sent: boolean, reason: unknown): LockstepError {
  const why = reason instanceof Error ? `: ${reason.message}` : "";
  return sent
    ? new LockstepError("aborted", `aborted${why}; ${indeterminateNote}`, true)
    : new LockstepError(
        "aborted",
        `aborted before it was sent${why}; it did not take effect`,
        false,
      );
}

export function closedError(sent: boolean): LockstepError {
  return sent
    ? new LockstepError(
        "closed",
        "the client was closed before an answer came; the operation may or may not have taken effect",
        true,
      )
    : new LockstepError("closed", "the client is closed; the operation was not sent", false);
}

/** The error for a refusal the protocol reported (`result.ok === false`). */
export function replyError(
  code: ErrorCode,
  message: string | undefined,
  indeterminate: boolean,
  leader: ReplicaId | undefined,
): LockstepError {
  const detail = message ? `: ${message}` : "";
  let text: string;
  switch (code) {
    case "session-expired":
      text =
        "the client's session expired before the answer came, so the outcome is unknown: the " +
        "command may or may not have taken effect (the client opens a new session for later calls)";
      break;
    case "stale":
      text = "the replicas no longer hold this command's result, so the outcome is unknown";
      break;
    case "invalid":
      text = `the service refused the request as malformed${detail}; it did not take effect`;
      break;
    case "apply-failed":
      text = `the command ran and threw${detail}; changes it made before throwing remain`;
      break;
    case "too-many-outstanding":
      text = "too many unacknowledged commands in this session; it did not take effect";
      break;
    case "busy":
      text = `the cluster is busy${detail}; try again later`;
      break;
    case "not-leader":
      text = `no replica could order the request${detail}`;
      break;
    case "forbidden":
      text = `this client may not make the request${detail}; it did not take effect`;
      break;
  }
  return new LockstepError(
    code,
    text,
    indeterminate || code === "session-expired" || code === "stale",
    leader,
  );
}

/** A command or query refused before it was sent (not a Value, too large): it did not take effect. */
export function notSentError(what: string, problem: string): LockstepError {
  return new LockstepError(
    "invalid",
    `the ${what} was not sent: ${problem}; it did not take effect`,
    false,
  );
}
