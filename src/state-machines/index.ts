export * from "./arbiter/index.js";
export * from "./counter/index.js";
export * from "./kv/index.js";
export * from "./lock/index.js";
export type { ClientOperation, ServiceKit } from "./service-kit.js";
export { InvalidInputError } from "./shared/fields.js";
export { SnapshotError } from "./shared/snapshot.js";
