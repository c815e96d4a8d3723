export { describeKvOperation } from "./describe.js";
export { createKvKit, type KvKitOptions, kvKit } from "./kit.js";
export { type KvModelState, kvModel } from "./model.js";
export { parseKvCommand, parseKvOperation, parseKvQuery } from "./parse.js";
export { partitionKvHistory } from "./partition.js";
export { kvService } from "./service.js";
export { decodeKvSnapshot, encodeKvSnapshot } from "./snapshot.js";
export { KvStateMachine } from "./state-machine.js";
export {
  KV_MAX_KEY_LENGTH,
  KV_MAX_VALUE_BYTES,
  type KvCas,
  type KvCasResult,
  type KvCommand,
  type KvDel,
  type KvDelResult,
  type KvGet,
  type KvGetResult,
  type KvPut,
  type KvPutResult,
  type KvQuery,
  type KvQueryResult,
  type KvResult,
} from "./types.js";
export { createKvWorkload, type KvWorkloadOptions } from "./workload.js";
