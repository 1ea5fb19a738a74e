// Before each request to the outside world an alarm run sets a "watchdog" alarm just past the
// request's timeout. If the run dies mid-request (eviction, deploy, crash) the watchdog resumes
// the work; if it finishes, the run replaces the watchdog with the alarm it really needs.

import { clock } from "../lib/clock";
import { DELIVERY_TIMEOUT_MS } from "../egress/schedule";

/** Margin past the request timeout before the watchdog fires, in ms. */
const WATCHDOG_MARGIN_MS = 5_000;

/** `timeoutMs`: the request's own timeout (a destination's), at least the default one. */
export async function armWatchdog(storage: DurableObjectStorage, timeoutMs = DELIVERY_TIMEOUT_MS): Promise<void> {
  await storage.setAlarm(clock.now() + Math.max(timeoutMs, DELIVERY_TIMEOUT_MS) + WATCHDOG_MARGIN_MS);
}
