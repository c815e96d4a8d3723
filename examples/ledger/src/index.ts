// The ledger example as a service module: `lockstep replica --service dist-examples/ledger/src/index.js`
// and `lockstep sim --service …` load this default export.
import { defineServicePackage } from "lockstep";
import { ledger } from "./ledger.js";
import { ledgerModel } from "./model.js";
import { ledgerWorkload } from "./workload.js";

export { Ledger, ledger } from "./ledger.js";
export { ledgerModel } from "./model.js";
export { parseCommand, parseQuery } from "./parse.js";
export * from "./types.js";
export { ledgerWorkload } from "./workload.js";

export default defineServicePackage({
  definition: ledger,
  workload: ledgerWorkload,
  model: ledgerModel,
});
