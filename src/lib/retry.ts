// The retry schedule of forwarded events (docs/receiving-events.md links here rather than copying it),
// also followed by refund confirmations and alert notifications.
// Exponential backoff with jitter, first retry after 5-6 s, budget about three days. After the
// last retry fails the event is dead-lettered: kept, visible, redeliverable by an operator.

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
