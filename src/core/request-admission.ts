import type { ClientReplyMessage, ReplyResult } from "./client-messages.js";
import { encode } from "./codec.js";
import { isPlainObject } from "./schema.js";
import type { AnyServiceDefinition } from "./state-machine.js";
import type { Value } from "./value.js";

/**
 * Admission of client requests before they reach a protocol core: a command the service refuses,
 * or one too large, is answered `invalid` at once instead of being logged and replicated to every
 * replica first. Replicas still validate when they apply (a Byzantine leader may log anything).
 * Validation is a pure function of the command, so any replica gives the same answer.
 */

/**
 * The largest command or query, in encoded bytes, a replica admits (2 MiB: room for a kv value of
 * its 1 MiB maximum). The client library checks the same bound before sending.
 */
export const maxCommandBytes = 2 * 1024 * 1024;

/** Why `v` is larger than `limit` encoded bytes, or undefined when it fits. */
export function sizeProblem(v: Value, limit = maxCommandBytes): string | undefined {
  // A cheap upper bound first: most commands are far below the limit and need no encoding.
  if (sizeBound(v, limit) <= limit) return undefined;
  let size: number;
  try {
    size = encode(v).length;
  } catch (error) {
    return `cannot be encoded: ${(error as Error)?.message ?? String(error)}`;
  }
  return size > limit ? `encoded size ${size} bytes exceeds the limit of ${limit}` : undefined;
}

/** An upper bound on the MessagePack size of `v`; stops counting once past `stopAt`. */
function sizeBound(v: Value, stopAt: number): number {
  let total = 0;
  const visit = (x: Value): void => {
    if (total > stopAt) return;
    if (x === null || typeof x === "boolean" || typeof x === "number") total += 9;
    else if (typeof x === "string") total += 5 + 3 * x.length;
    else if (x instanceof Uint8Array) total += 5 + x.length;
    else if (Array.isArray(x)) {
      total += 5;
      for (const item of x) visit(item);
    } else {
      total += 5;
      const record = x as { readonly [key: string]: Value };
      for (const key of Object.keys(record)) {
        total += 5 + 3 * key.length;
        visit(record[key]!);
      }
    }
  };
  visit(v);
  return total;
}

/** The service's verdict on a command; a validator that throws counts as a refusal. */
export function commandProblem(definition: AnyServiceDefinition, cmd: Value): string | undefined {
  const tooLarge = sizeProblem(cmd);
  if (tooLarge !== undefined) return `command ${tooLarge}`;
  try {
    return definition.validateCommand(cmd);
  } catch (error) {
    return `the command validator threw: ${(error as Error)?.message ?? String(error)}`;
  }
}

/** The service's verdict on a query; a validator that throws counts as a refusal. */
export function queryProblem(definition: AnyServiceDefinition, q: Value): string | undefined {
  const tooLarge = sizeProblem(q);
  if (tooLarge !== undefined) return `query ${tooLarge}`;
  try {
    return definition.validateQuery(q);
  } catch (error) {
    return `the query validator threw: ${(error as Error)?.message ?? String(error)}`;
  }
}

function invalid(message: string): ReplyResult {
  return { ok: false, error: "invalid", message };
}

/**
 * The refusal for a request of the leader-based client protocol that must not reach the core,
 * or undefined to admit it. Messages of other shapes (other protocols' wires, admin requests,
 * session registration) are admitted untouched.
 */
export function refuseRequest(
  definition: AnyServiceDefinition,
  msg: unknown,
): ClientReplyMessage | undefined {
  if (!isPlainObject(msg) || typeof msg.client !== "string") return undefined;
  const client = msg.client;
  if (msg.type === "request" && typeof msg.seq === "number" && msg.seq > 0) {
    const problem = commandProblem(definition, msg.cmd as Value);
    if (problem === undefined) return undefined;
    return { type: "reply", client, seq: msg.seq, result: invalid(problem) };
  }
  if (msg.type === "query" && typeof msg.qid === "number") {
    const problem = queryProblem(definition, msg.q as Value);
    if (problem === undefined) return undefined;
    return { type: "queryReply", client, qid: msg.qid, result: invalid(problem) };
  }
  return undefined;
}

/**
 * The refusal for a client frame the wire schema rejected (NaN, a Date, nesting too deep…), when
 * it still names its client and request: an answer, so the client neither waits for a timeout nor
 * keeps the request in its session. `raw` is the decoded but unchecked message.
 */
export function refuseMalformed(raw: unknown, problem: string): ClientReplyMessage | undefined {
  if (!isPlainObject(raw) || typeof raw.client !== "string" || raw.client.length > 64) {
    return undefined;
  }
  const client = raw.client;
  const id = (x: unknown): x is number =>
    typeof x === "number" && Number.isSafeInteger(x) && x >= 0;
  const result = invalid(`the request does not fit the wire schema: ${problem}`);
  if (raw.type === "request" && id(raw.seq) && raw.seq > 0) {
    return { type: "reply", client, seq: raw.seq, result };
  }
  if (raw.type === "query" && id(raw.qid))
    return { type: "queryReply", client, qid: raw.qid, result };
  return undefined;
}
