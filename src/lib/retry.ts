// The retry schedule of forwarded events (docs/receiving-events.md links here rather than copying it),
// also followed by refund confirmations and alert notifications.
// Exponential backoff with jitter, first retry after 5-6 s, budget about three days (a destination's
// maxAttempts may shorten it). After the last retry fails the event is dead-lettered: kept, visible,
// redeliverable by an operator. A new object's not-ready answers follow their own quick schedule.

import { MINUTE_MS } from "./time";

/** Delay before retry N (index N-1), in seconds, before jitter. 13 retries after the first attempt. */
export const RETRY_DELAYS_SECONDS: readonly number[] = [
  5,
  30,
  2 * 60,
  10 * 60,
  30 * 60,
  60 * 60,
  2 * 3600,
  4 * 3600,
  8 * 3600,
  12 * 3600,
  12 * 3600,
  12 * 3600,
  12 * 3600,
];

/** Each delay is stretched by a random 0-25 %, so retries of many objects after an origin outage
 *  do not arrive in lockstep. */
export const JITTER_FRACTION = 0.25;

/**
 * The delay after the `attempts`-th failed attempt of the current cycle (1-based), in ms, or null
 * when the budget is spent and the event is to be dead-lettered. `random` is in [0, 1).
 */
export function retryDelayMs(attempts: number, random: number): number | null {
  const base = RETRY_DELAYS_SECONDS[attempts - 1];
  if (base === undefined) return null;
  return Math.round(base * 1000 * (1 + JITTER_FRACTION * random));
}

/** While an object is new (its first minutes), a destination that answers as if it did not know it yet
 *  (404, 409, 425) is retried soon, each delay counted from the previous attempt: in seconds, before
 *  jitter. After these, the usual schedule from its first step. Such attempts use none of the budget. */
export const NOT_READY_DELAYS_SECONDS: readonly number[] = [5, 15, 30, 60];

/** How long an object counts as new for the not-ready rule, from its first accepted event, in ms. */
export const NOT_READY_WINDOW_MS = 10 * MINUTE_MS;

/** The delay after the `n`-th not-ready answer (1-based), in ms; it never runs out. */
export function notReadyDelayMs(n: number, random: number): number {
  const quick = NOT_READY_DELAYS_SECONDS[n - 1];
  const usual =
    RETRY_DELAYS_SECONDS[Math.min(n - 1 - NOT_READY_DELAYS_SECONDS.length, RETRY_DELAYS_SECONDS.length - 1)];
  return Math.round((quick ?? usual ?? 5) * 1000 * (1 + JITTER_FRACTION * random));
}
