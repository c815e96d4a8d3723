import type { PerOp } from "lockstep";

// The ledger's commands, queries and results. Interfaces work: every field is a Value.

/** Opens an account with an initial deposit (money enters the ledger only here). */
export interface OpenAccount {
  readonly op: "open";
  readonly account: string;
  readonly initial: number;
}

/** Moves `amount` from one account's available funds to another account. */
export interface Transfer {
  readonly op: "transfer";
  readonly from: string;
  readonly to: string;
  readonly amount: number;
}

/** Reserves `amount` of an account's available funds until the agreed clock passes its expiry. */
export interface PlaceHold {
  readonly op: "hold";
  readonly id: string;
  readonly account: string;
  readonly amount: number;
  readonly ttlMs: number;
}

/** Pays a live hold's amount to `to`; an expired hold pays nothing. */
export interface CaptureHold {
  readonly op: "capture";
  readonly id: string;
  readonly to: string;
}

/** Gives a hold's funds back before it expires. */
export interface ReleaseHold {
  readonly op: "release";
  readonly id: string;
}

export type LedgerCommand = OpenAccount | Transfer | PlaceHold | CaptureHold | ReleaseHold;

/** Why a command did nothing. */
export type LedgerRefusal =
  | "account-exists"
  | "no-such-account"
  | "insufficient-funds"
  | "hold-exists"
  | "no-such-hold"
  | "same-account";

export interface Done {
  readonly ok: true;
  /** For a hold: when it expires, by the agreed clock. */
  readonly expiresAt?: number;
}

export interface Refused {
  readonly ok: false;
  readonly reason: LedgerRefusal;
}

export type LedgerResult = Done | Refused;

export interface BalanceQuery {
  readonly op: "balance";
  readonly account: string;
}

/** The sum of every account's funds: constant once the accounts are open. */
export interface TotalQuery {
  readonly op: "total";
}

export type LedgerQuery = BalanceQuery | TotalQuery;

export interface Balance {
  readonly found: boolean;
  /** Funds the account owns, held ones included. */
  readonly balance: number;
  /** Funds under live holds at the query's agreed time. */
  readonly held: number;
}

export interface Total {
  readonly total: number;
  readonly accounts: number;
}

/** Each query's own answer type, so `client.query({ op: "total" })` is typed `Total`. */
export type LedgerAnswer = PerOp<{ balance: Balance; total: Total }>;

export const limits = {
  maxAmount: 1_000_000_000,
  maxIdLength: 64,
  maxTtlMs: 24 * 3600_000,
  maxAccounts: 100_000,
  maxHolds: 100_000,
} as const;
