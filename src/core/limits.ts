/**
 * Every fixed limit in lockstep, named in one place. A queue, batch or table that can grow
 * from outside input has a bound here, and the code that enforces it says what happens when
 * the bound is reached (drop and count, refuse with an error code, or fail the oldest).
 *
 * Limits a user may tune per cluster live in the protocols' settings instead; the values here
 * are the hard ceilings and the defaults that are not worth a setting.
 */
export const limits = {} as const;
