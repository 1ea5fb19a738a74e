// The cron's watchdog during an outage: every object is backing off (legitimately waiting), and a
// newer object whose alarm was lost must still be found. It is chosen by its own next-due time, not
// behind the objects that have waited longest.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { WATCHDOG_AFTER_MS, WATCHDOG_MAX_OBJECTS, wakeStranded } from "../src/reconcile/watchdog";
import { KINDS, deliver, eventFor, ledgerOf, uniqueRef } from "./helpers";
import { origin, testClock } from "./stand-ins";

const LINK = KINDS["payment-link"];

describe("the cron's watchdog in an outage", () => {
  it("wakes a newer object whose alarm was lost, behind more waiting objects than it checks per pass", async () => {
    // More objects than a pass checks, waiting longer, each backing off for an hour: not overdue.
    const now = testClock.now;
    const waiting = Array.from({ length: WATCHDOG_MAX_OBJECTS + 20 }, () => uniqueRef("backing-off"));
    await env.READ_MODEL.batch(
      waiting.map((ref) =>
        env.READ_MODEL.prepare(
          `INSERT INTO objects (object, provider, kind, object_ref, first_seen_at, last_seen_at, pending,
                                oldest_pending_at, next_due_at, version)
           VALUES (?, 'portone', 'payment_link', ?, ?, ?, 1, ?, ?, 1)`,
        ).bind(`portone:payment_link:${ref}`, ref, now - 3600_000, now - 3600_000, now - 3600_000, now + 3600_000),
      ),
    );
    const ref = uniqueRef("lost-alarm");
    origin.answer(() => new Response(null, { status: 503 }));
    await deliver("payment-link", await eventFor("payment-link", ref, "Created"));
    const stub = ledgerOf(LINK, ref);
    expect(await runDurableObjectAlarm(stub)).toBe(true); // fails: its retry is due in seconds
    await runInDurableObject(stub, (_i, state) => state.storage.deleteAlarm()); // and that alarm is lost
    expect(await wakeStranded(env, testClock.now + 10_000 + WATCHDOG_AFTER_MS)).toBe(1);
    expect(await runInDurableObject(stub, (_i, state) => state.storage.getAlarm())).not.toBeNull();
  });
});
