/**
 * Memoizes a parse of an operation object by identity. The checker calls a model's step on the
 * same operation many times while it searches; parsing untrusted input each time dominated.
 */
export function memoByIdentity<I extends object, R>(parse: (input: I) => R): (input: I) => R {
  const cache = new WeakMap<I, { value: R }>();
  return (input) => {
    const hit = cache.get(input);
    if (hit) return hit.value;
    const value = parse(input);
    cache.set(input, { value });
    return value;
  };
}
