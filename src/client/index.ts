// The client library: connect to a lockstep cluster, invoke commands exactly once, read, administer.
export {
  type CallOptions,
  type ClientOf,
  type ConnectOptions,
  connect,
  LockstepClient,
} from "./client.js";
export { LockstepError, type LockstepErrorCode } from "./errors.js";
