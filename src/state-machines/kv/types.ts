/** Longest key, in UTF-16 code units (JavaScript string length). */
export const KV_MAX_KEY_LENGTH = 1024;
/** Largest value, in bytes of its UTF-8 encoding: what the log and snapshots actually carry. */
export const KV_MAX_VALUE_BYTES = 1 << 20;

export type KvPut = { readonly op: "put"; readonly key: string; readonly value: string };
export type KvGet = { readonly op: "get"; readonly key: string };
export type KvDel = { readonly op: "del"; readonly key: string };
/** Compare-and-set: `expected: null` means "key absent"; `value: null` deletes the key. */
export type KvCas = {
  readonly op: "cas";
  readonly key: string;
  readonly expected: string | null;
  readonly value: string | null;
};
export type KvCommand = KvPut | KvGet | KvDel | KvCas;

/** `prev` is the value the put replaced, null if the key was absent. */
export type KvPutResult = { readonly ok: true; readonly prev: string | null };
export type KvGetResult = { readonly ok: true; readonly value: string | null };
export type KvDelResult = { readonly ok: true; readonly existed: boolean };
/** `value` is the key's value after the operation, whether or not the swap happened. */
export type KvCasResult = { readonly ok: boolean; readonly value: string | null };
export type KvResult = KvPutResult | KvGetResult | KvDelResult | KvCasResult;

/** The only query: a read that does not go through the log. */
export type KvQuery = KvGet;
export type KvQueryResult = KvGetResult;
