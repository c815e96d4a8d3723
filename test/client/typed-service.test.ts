import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, expectTypeOf, test } from "vitest";
import { type ClientOf, connect, type LockstepClient } from "../../src/client/client.js";
import {
  type CommandOf,
  defineService,
  type ResultOf,
  type ServiceDefinition,
} from "../../src/core/state-machine.js";
import type { PerOp, ResultFor, Value } from "../../src/core/value.js";
import {
  clientKeyFile,
  generateClusterKeys,
  readKeyFile,
  writeKeyFile,
} from "../../src/net/keys.js";
import { decode, encode } from "../../src/platform/codec.js";

// Issue 10, types: commands written as interfaces, the documented key-file path, and clients
// typed by their service. These are compile-time checks (tsc -p tsconfig.json runs them) with a
// little run time to keep the values honest.

interface Deposit {
  readonly op: "deposit";
  readonly account: string;
  readonly amount: number;
}
interface Balance {
  readonly op: "balance";
  readonly account: string;
}
type TallyCommand = Deposit | Balance;
interface TallyResult {
  readonly balance: number;
}

const tally = defineService<TallyCommand, TallyResult>({
  name: "tally",
  create: () => {
    const balances = new Map<string, number>();
    return {
      apply: (cmd) => {
        const now = (balances.get(cmd.account) ?? 0) + (cmd.op === "deposit" ? cmd.amount : 0);
        balances.set(cmd.account, now);
        return { balance: now };
      },
      query: (q) => ({ balance: balances.get(q.account) ?? 0 }),
      snapshot: () => encode([...balances].sort() as Value),
      restore: (bytes) => {
        balances.clear();
        for (const [k, v] of decode(bytes) as [string, number][]) balances.set(k, v);
      },
    };
  },
  validateCommand: (cmd) => (typeof cmd === "object" && cmd !== null ? undefined : "not an object"),
  validateQuery: () => undefined,
});

describe("typed services", () => {
  test("commands and results may be interfaces; the machine works on them", () => {
    const m = tally.create();
    const ctx = { index: 1, position: 0, now: () => 0, random: () => 0 };
    expect(m.apply({ op: "deposit", account: "a", amount: 5 }, ctx)).toEqual({ balance: 5 });
    expectTypeOf<CommandOf<typeof tally>>().toEqualTypeOf<TallyCommand>();
    expectTypeOf<ResultOf<typeof tally>>().toEqualTypeOf<TallyResult>();
  });

  test("defineService refuses types that hold something other than a Value", () => {
    interface WithDate {
      readonly when: Date;
    }
    const definition = {} as ServiceDefinition<WithDate, null>;
    // @ts-expect-error a Date is not a Value
    const checked = () => defineService<WithDate, null>(definition);
    expect(typeof checked).toBe("function");
  });

  test("connect<typeof service>() types invoke and query by the service", () => {
    const typed = () => connect<typeof tally>({} as never);
    expectTypeOf<Awaited<ReturnType<typeof typed>>>().toEqualTypeOf<ClientOf<typeof tally>>();
    type Client = ClientOf<typeof tally>;
    expectTypeOf<Client["invoke"]>().parameter(0).toEqualTypeOf<TallyCommand>();
    expectTypeOf<ReturnType<Client["invoke"]>>().toEqualTypeOf<Promise<TallyResult>>();
    expectTypeOf<ReturnType<Client["query"]>>().toEqualTypeOf<Promise<TallyResult>>();
    const options = {} as Parameters<typeof connect>[0];
    const inferred = () => connect({ ...options, service: tally });
    expectTypeOf<Awaited<ReturnType<typeof inferred>>>().toEqualTypeOf<Client>();
    const untyped = () => connect({} as never);
    expectTypeOf<Awaited<ReturnType<typeof untyped>>>().toEqualTypeOf<
      LockstepClient<Value, Value, Value, Value>
    >();
  });

  test("results declared with PerOp are typed per command and query", () => {
    interface Sum {
      readonly total: number;
    }
    type Query = Balance | { readonly op: "sum" };
    type Answer = PerOp<{ balance: TallyResult; sum: Sum }>;
    type Client = LockstepClient<TallyCommand, TallyResult, Query, Answer>;
    const client = {} as Client;
    const sum = () => client.query({ op: "sum" });
    const balance = () => client.query({ op: "balance", account: "a" });
    expectTypeOf<Awaited<ReturnType<typeof sum>>>().toEqualTypeOf<Sum>();
    expectTypeOf<Awaited<ReturnType<typeof balance>>>().toEqualTypeOf<TallyResult>();
    expectTypeOf<ResultFor<Answer, Query>>().toEqualTypeOf<TallyResult | Sum>();
    // A plain result type is the same for every command.
    const deposit = () => client.invoke({ op: "deposit", account: "a", amount: 1 });
    expectTypeOf<Awaited<ReturnType<typeof deposit>>>().toEqualTypeOf<TallyResult>();
    expect(typeof sum).toBe("function");
  });

  test("clientKeyFile(readKeyFile(…)) compiles and works as docs/net.md shows", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lockstep-keys-"));
    try {
      const file = path.join(dir, "cluster.json");
      writeKeyFile(file, generateClusterKeys(3));
      const alice = clientKeyFile(readKeyFile(file), "alice");
      expect(alice.kind).toBe("client");
      expect(() => clientKeyFile(alice, "bob")).toThrow(/client key file/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
