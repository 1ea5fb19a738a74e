// The rate arithmetic the gate (gate.ts) and an isolate's lease (gate-lease.ts) both keep: shares of a
// destination's maxPerSecond are whole sends per second, each spaced with a headroom, and a caller told
// to wait gets its own slot on a whole millisecond.
// Why whole shares with a headroom: a holder of k sends per second spaces them 1000 / (0.98 k) ms apart,
// so any window of one second holds at most 1 + floor(0.98 k) <= k of its sends (a fractional share
// could put ceil(k) in one: two holders of 4.9/s showed the origin 10 and then 11 in a second), and the
// shares of all holders add up to at most maxPerSecond (gate-shares.ts).

export interface GateLimits {
  readonly maxPerSecond: number | null;
  readonly maxConcurrency: number | null;
}

/** The share of a rate the spacing keeps to: any k + 1 consecutive sends span 1 s + 2 %, which absorbs
 *  20 ms of network jitter at 20/s (seen in bench:protection: 21 at 20/s with sends exactly 50 ms apart). */
export const RATE_HEADROOM = 0.98;
/** A refused caller without a rate to space it comes back after this, in ms. */
const DEFAULT_SPACING_MS = 100;

/** Milliseconds between two sends of `perSecond` whole sends per second. */
export function sendSpacingMs(perSecond: number): number {
  return 1000 / (perSecond * RATE_HEADROOM);
}

/** Milliseconds between waiting callers of a destination (at `share` of its rate while it ramps up). */
export function spacingMs(limits: GateLimits, share = 1): number {
  if (limits.maxPerSecond === null) return limits.maxConcurrency === null ? 0 : DEFAULT_SPACING_MS / 10;
  return 1000 / (limits.maxPerSecond * RATE_HEADROOM * share);
}

/** A waiting caller's own slot: after the last one promised, not before `earliest`, on a whole
 *  millisecond (rounded up). Stored times and alarms are whole milliseconds: a fractional slot made
 *  every woken caller read a time before it, be refused and go to the back of the line. */
export function nextSlot(earliest: number, lastPromised: number, spacing: number): number {
  return Math.ceil(Math.max(earliest, lastPromised + spacing));
}
