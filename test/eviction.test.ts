// Eviction at the worst moments: state and pending work survive a restart of the Durable Object.
import { describe, expect, it } from "vitest";
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { ledgerOf, uniqueRef } from "./helpers";
import { envelope, origin, testClock } from "./stand-ins";
import { LINK, accept, after } from "./delivery-helpers";

describe("eviction", () => {
  it("between the record and the alarm loses nothing", async () => {
    const ref = uniqueRef("evict-rec");
    await accept("payment-link", ref, "Created");
    const stub = ledgerOf(LINK, ref);
    await evictDurableObject(stub);
    expect(await runInDurableObject(stub, (_i, state) => state.storage.getAlarm())).toBe(testClock.now);
    await after(0, ref);
    expect(origin.acknowledged.map((r) => envelope(r).status)).toEqual(["Created"]);
  });

  it("after a failed attempt, before its retry, loses nothing", async () => {
    const ref = uniqueRef("evict-retry");
    origin.answer(() => new Response(null, { status: 500 }));
    await accept("payment-link", ref, "Created");
    await after(0, ref);
    origin.answer(() => new Response(null, { status: 200 }));
    await evictDurableObject(ledgerOf(LINK, ref));
    await after(10_000, ref);
    expect(origin.acknowledged.map((r) => envelope(r).status)).toEqual(["Created"]);
  });

  it("during a delivery: the interrupted attempt is closed and the event is delivered on the next run", async () => {
    const ref = uniqueRef("evict-mid");
    await accept("payment-link", ref, "Created");
    const stub = ledgerOf(LINK, ref);
    // The state a run leaves when it stops mid-request: attempt counted and in flight.
    await runInDurableObject(stub, (_instance, state) => {
      state.storage.sql.exec(
        `INSERT INTO outbox (seq, destination, event_id, state, cycle_attempts, next_attempt_at, updated_at, attempt_started_at)
         SELECT seq, 'default', event_id, 'pending', 1, ?1, ?1, ?1 FROM events`,
        testClock.now,
      );
    });
    await evictDurableObject(stub);
    await after(0, ref);
    expect(origin.acknowledged.map((r) => envelope(r).status)).toEqual(["Created"]);
    const report = await stub.inspect();
    expect(report.attempts.map((a) => a.outcome)).toEqual(["interrupted", "delivered"]);
  });
});
