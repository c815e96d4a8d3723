import type { Random } from "../../core/prng.js";

/**
 * Picks one of `choices` with probability proportional to its weight, using exactly one draw
 * from `random` so a seed always consumes the stream the same way.
 */
export function pickWeighted<T>(random: Random, choices: readonly (readonly [T, number])[]): T {
  let total = 0;
  for (const [, weight] of choices) total += weight;
  let point = random.next() * total;
  let last: T | undefined;
  for (const [choice, weight] of choices) {
    if (weight <= 0) continue;
    last = choice;
    if (point < weight) return choice;
    point -= weight;
  }
  // Rounding can leave `point` a hair above the last weight; the last positive choice owns it.
  if (last === undefined) throw new RangeError("pickWeighted needs at least one positive weight");
  return last;
}

export function checkRatio(name: string, ratio: number): number {
  if (!(ratio >= 0 && ratio <= 1)) throw new RangeError(`${name} must be in [0, 1], got ${ratio}`);
  return ratio;
}

export function checkCount(name: string, n: number, min: number, max: number): number {
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new RangeError(`${name} must be an integer in [${min}, ${max}], got ${n}`);
  }
  return n;
}
