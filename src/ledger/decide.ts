// The ledger's state machine, pure so it can be tested and reasoned about without storage.
// A genuine event either moves its object along the lifecycle (accepted) or arrives too late to
// (stale): after a terminal status, or behind a status the object already passed. Stale events are
// kept as history but never change state, so a replay or a late delivery cannot undo a payment.

import type { StatusPosition } from "../providers/types";

export interface ObjectState {
  readonly status: string;
  /** Highest rank reached among known statuses; null until one is seen. */
  readonly rank: number | null;
  readonly terminal: boolean;
}

export type Decision = "accepted" | "stale";

export function decide(state: ObjectState | null, next: StatusPosition): Decision {
  if (state === null) return "accepted";
  if (state.terminal) return "stale";
  if (next.rank !== null && state.rank !== null && next.rank < state.rank) return "stale";
  return "accepted";
}

/** The state after an accepted event. An unlisted status keeps the rank already reached. */
export function advance(state: ObjectState | null, status: string, next: StatusPosition): ObjectState {
  const ranks = [state?.rank, next.rank].filter((r): r is number => typeof r === "number");
  return {
    status,
    rank: ranks.length > 0 ? Math.max(...ranks) : null,
    terminal: next.terminal,
  };
}
