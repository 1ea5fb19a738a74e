// The second line behind "every stored piece of work has an alarm that will run it": at each cron
// pass, objects the read model shows with delivery work overdue (due more than 2 minutes ago, as of
// their last snapshot) are asked to make sure an alarm will run them (Ledger.ensureAlarm). An object
// whose alarm is set, in the future or just due, changes nothing; one whose alarm is missing or was
// set in the past and never ran (seen under workerd's local alarms) is woken now. Chosen by each
// object's own next-due time, most overdue first, not by how long its events have waited: in an
// outage every object waits legitimately (backing off), and a newer object whose alarm was lost must
// not hide behind them. Bounded: WATCHDOG_MAX_OBJECTS per pass.
// Gives up: an object whose read model row is missing (it never ran once) is not seen here; its
// next webhook re-arms it (Ledger.record).

import { ledgerOf } from "../ledger/client";
import { log } from "../lib/log";
import { errorText } from "../lib/result";
import { MINUTE_MS } from "../lib/time";

export const WATCHDOG_MAX_OBJECTS = 100;
/** Pending this long before the watchdog looks: a healthy object runs within seconds. */
export const WATCHDOG_AFTER_MS = 2 * MINUTE_MS;
const CONCURRENCY = 8;

/** The objects that had to be woken. */
export async function wakeStranded(env: Env, now: number): Promise<number> {
  // Rows written before next_due_at existed are judged by their oldest pending event, as before.
  const { results } = await env.READ_MODEL.prepare(
    `SELECT object FROM objects WHERE pending > 0 AND coalesce(next_due_at, oldest_pending_at) < ?
     ORDER BY coalesce(next_due_at, oldest_pending_at) LIMIT ?`,
  )
    .bind(now - WATCHDOG_AFTER_MS, WATCHDOG_MAX_OBJECTS)
    .all<{ object: string }>();
  let woken = 0;
  for (let i = 0; i < results.length; i += CONCURRENCY) {
    const batch = results.slice(i, i + CONCURRENCY);
    const answers = await Promise.allSettled(batch.map((r) => ledgerOf(env, r.object).ensureAlarm()));
    answers.forEach((answer, j) => {
      if (answer.status === "fulfilled") woken += answer.value ? 1 : 0;
      else
        log("warn", "watchdog could not reach an object", {
          object: batch[j]?.object,
          error: errorText(answer.reason),
        });
    });
  }
  if (woken > 0) log("warn", "watchdog woke objects whose pending events had no alarm to run them", { woken });
  return woken;
}
