// An alarm run that fails is retried, and never leaves pending work without an alarm: it throws to
// the runtime's retry and sets a fallback alarm first; a later event for the object re-arms too.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { DELIVERIES_VIEW } from "../src/ledger/fresh-schema";
import { WATCHDOG_AFTER_MS, wakeStranded } from "../src/reconcile/watchdog";
import { describe, expect, it, vi } from "vitest";
import { KINDS, deliver, eventFor, ledgerOf, resultOf, uniqueRef } from "./helpers";
import { origin, testClock } from "./stand-ins";

const LINK = KINDS["payment-link"];

describe("a failing alarm run", () => {
  it("throws to the runtime's retry, keeps a fallback alarm, and delivers once storage is back", async () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    const ref = uniqueRef("alarmfail");
    expect(await resultOf(await deliver("payment-link", await eventFor("payment-link", ref, "Created")))).toBe(
      "accepted",
    );
    const stub = ledgerOf(LINK, ref);
    // A real storage fault before anything is sent: the queue's view the run reads first is gone.
    await runInDurableObject(stub, (_i, state) => state.storage.sql.exec("DROP VIEW deliveries"));
    await expect(runDurableObjectAlarm(stub)).rejects.toThrow();
    const fallback = await runInDurableObject(stub, (_i, state) => state.storage.getAlarm());
    expect(fallback).toBe(testClock.now + 5 * 60 * 1000);
    await runInDurableObject(stub, (_i, state) => state.storage.sql.exec(DELIVERIES_VIEW));
    testClock.advance(5 * 60 * 1000);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(origin.acknowledged).toHaveLength(1);
  });

  it("a new event re-arms an object whose pending work has no alarm", async () => {
    const ref = uniqueRef("rearm");
    origin.answer(() => new Response(null, { status: 500 }));
    await deliver("payment-link", await eventFor("payment-link", ref, "Created"));
    const stub = ledgerOf(LINK, ref);
    expect(await runDurableObjectAlarm(stub)).toBe(true); // fails: a retry is scheduled
    await runInDurableObject(stub, (_i, state) => state.storage.deleteAlarm()); // as if the runtime gave up
    origin.answer(() => new Response(null, { status: 200 }));
    await deliver("payment-link", await eventFor("payment-link", ref, "Processing"));
    const armed = await runInDurableObject(stub, (_i, state) => state.storage.getAlarm());
    expect(armed).not.toBeNull();
    testClock.advance(10_000);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(origin.acknowledged.map((r) => (JSON.parse(r.body) as { status: string }).status)).toEqual([
      "Created",
      "Processing",
    ]);
  });
});

describe("the cron's watchdog", () => {
  it("wakes an object whose pending events lost their alarm, and leaves an armed one alone", async () => {
    const ref = uniqueRef("watchdog");
    origin.answer(() => new Response(null, { status: 500 }));
    await deliver("payment-link", await eventFor("payment-link", ref, "Created"));
    const stub = ledgerOf(LINK, ref);
    expect(await runDurableObjectAlarm(stub)).toBe(true); // fails: a retry is set, the read model says pending
    // The read model is asked as if its retry (5 s, with jitter) were due more than two minutes ago;
    // the object's own clock has not moved.
    const later = testClock.now + 10_000 + WATCHDOG_AFTER_MS;
    expect(await wakeStranded(env, later)).toBe(0); // its retry alarm is set: nothing to do
    await runInDurableObject(stub, (_i, state) => state.storage.deleteAlarm()); // as if the alarm were lost
    expect(await wakeStranded(env, later)).toBe(1);
    expect(await runInDurableObject(stub, (_i, state) => state.storage.getAlarm())).not.toBeNull();
    origin.answer(() => new Response(null, { status: 200 }));
    testClock.advance(10_000);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(origin.acknowledged).toHaveLength(1);
  });
});
