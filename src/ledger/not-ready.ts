// A webhook that arrives before the merchant's system knows the order: during an object's first minutes
// (NOT_READY_WINDOW_MS from its first accepted event), a destination answering 404, 409 or 425 is "not
// ready" rather than failing. Such an attempt is retried on its own quick schedule (lib/retry.ts), uses
// none of the retry budget, and neither counts toward the destination's breaker nor resets it; except a
// 404 where an earlier event of the object was delivered to that destination (the origin knew the order:
// a real failure). After the window every answer counts as usual.

import { clock } from "../lib/clock";
import { NOT_READY_WINDOW_MS } from "../lib/retry";
import type { Outbox, OutboxHead } from "./outbox";

const NOT_READY_STATUSES: ReadonlySet<number> = new Set([404, 409, 425]);

/** Whether a failed answer to the head's attempt means "not ready" (read only when one comes back). */
export function notReadyRule(outbox: Outbox, head: OutboxHead): (httpStatus: number | null) => boolean {
  return (httpStatus) => {
    if (httpStatus === null || !NOT_READY_STATUSES.has(httpStatus)) return false;
    const first = outbox.firstAcceptedAt();
    if (first === null || clock.now() - first > NOT_READY_WINDOW_MS) return false;
    return !(httpStatus === 404 && outbox.deliveredBefore(head));
  };
}
