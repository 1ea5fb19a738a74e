// What an object does while one destination waits (a retry's backoff, a Retry-After, a pause, an open
// breaker), as operators and merchants see it from outside: a new event never waits behind another
// destination's wait, resume and a closing breaker make held events flow at once, pause and resume
// work with the read model down, and bulk redelivery of dead letters re-sends only where they are dead.
import { createExecutionContext, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { gateFor } from "../src/egress/gate";
import worker from "../src/index";
import { ledgerFor } from "../src/ledger/client";
import { adminFetch } from "./admin-helpers";
import { referenceHmac, resultOf, uniqueRef } from "./helpers";
import { verifyAtClock } from "./delivery-helpers";
import { envelope, origin, testClock, type Received } from "./stand-ins";

const nameOf = (r: Pick<Received, "url">): string =>
  r.url.replace(/^https:\/\/merchant\.test\/webhooks\/?/, "") || "default";
const ledger = (ref: string) => ledgerFor(env, "fanout", "order", ref);
const got = (name: string, ref: string) =>
  origin.acknowledged
    .filter((r) => nameOf(r) === name && envelope(r).object_ref === ref)
    .map((r) => envelope(r).status);

async function send(ref: string, status: string): Promise<string> {
  const body = JSON.stringify({ id: ref, status });
  const mac = await referenceHmac("fanout-test-secret-0123456789", body);
  const signature = [...mac].map((b) => b.toString(16).padStart(2, "0")).join("");
  const request = new Request("https://gateway.test/webhooks/hmac/fanout", {
    method: "POST",
    body,
    headers: { "x-signature": signature },
  });
  return resultOf(await worker.fetch(request, env, createExecutionContext()));
}

/** When the object's alarm is set to run, as a delay from the test clock (null: no alarm). */
async function alarmIn(ref: string): Promise<number | null> {
  const at = await runInDurableObject(ledger(ref), (_instance, state) => state.storage.getAlarm());
  return at === null ? null : at - testClock.now;
}

const quiet = () => {
  vi.spyOn(console, "warn").mockImplementation(() => undefined);
  vi.spyOn(console, "error").mockImplementation(() => undefined);
};

describe("a new event never waits behind another destination's wait", () => {
  it("with default answering 503 Retry-After: 3600, a new event wakes the object now and reaches the others", async () => {
    quiet();
    const ref = uniqueRef("wait-ahead");
    origin.answer((r) =>
      nameOf(r) === "default"
        ? new Response(null, { status: 503, headers: { "retry-after": "3600" } })
        : new Response(null, { status: 204 }),
    );
    expect(await send(ref, "created")).toBe("accepted");
    expect(await runDurableObjectAlarm(ledger(ref))).toBe(true); // default fails, analytics takes it
    testClock.advance(10_000);
    expect(await runDurableObjectAlarm(ledger(ref))).toBe(true); // the gate says: an hour from now
    expect(await alarmIn(ref)).toBeGreaterThan(3_000_000);

    expect(await send(ref, "paid")).toBe("accepted");
    expect(await alarmIn(ref)).toBeLessThanOrEqual(0);
    expect(await runDurableObjectAlarm(ledger(ref))).toBe(true);
    expect(got("analytics", ref)).toEqual(["created", "paid"]);
    expect(got("erp", ref)).toEqual(["paid"]);
    expect(got("default", ref)).toEqual([]);
    const listed = await (await adminFetch(`/events?q=${ref}`)).json<{ events: Array<{ status: string }> }>();
    expect(listed.events.map((e) => e.status)).toEqual(["paid", "created"]);
    expect(await alarmIn(ref)).toBeGreaterThan(3_000_000); // back to default's wait, nothing else due
  });
});

describe("resume and a closing breaker", () => {
  it("resume makes events held while paused due at once, not at the next poll", async () => {
    quiet();
    const ref = uniqueRef("resume");
    expect((await adminFetch("/destinations/analytics/pause", { method: "POST" })).status).toBe(200);
    expect(await send(ref, "created")).toBe("accepted");
    expect(await runDurableObjectAlarm(ledger(ref))).toBe(true);
    expect(got("default", ref)).toEqual(["created"]);
    expect(got("analytics", ref)).toEqual([]);
    expect(await alarmIn(ref)).toBeGreaterThanOrEqual(59_000);

    expect(await (await adminFetch("/destinations/analytics/resume", { method: "POST" })).json()).toMatchObject({
      state: "active",
    });
    expect(await runDurableObjectAlarm(gateFor(env, "analytics"))).toBe(true); // the gate wakes its waiters
    expect(await alarmIn(ref)).toBeLessThanOrEqual(0);
    expect(await runDurableObjectAlarm(ledger(ref))).toBe(true);
    expect(got("analytics", ref)).toEqual(["created"]);
  });

  it("a probe that closes the breaker wakes the objects it held and those backing off", async () => {
    quiet();
    let down = true;
    origin.answer((r) => new Response(null, { status: down && nameOf(r) === "analytics" ? 500 : 204 }));
    const refs = Array.from({ length: 6 }, () => uniqueRef("close"));
    for (const ref of refs) expect(await send(ref, "created")).toBe("accepted");
    for (const ref of refs) await runDurableObjectAlarm(ledger(ref)); // 5 failures open it; the 6th is held
    const held = refs[5] as string;
    expect((await gateFor(env, "analytics").state()).breaker).toBe("open");
    expect(await alarmIn(held)).toBeGreaterThanOrEqual(29_000);

    down = false;
    testClock.advance(31_000);
    expect(await runDurableObjectAlarm(ledger(refs[0] as string))).toBe(true); // the probe succeeds
    expect((await gateFor(env, "analytics").state()).breaker).toBe("closed");
    expect(await runDurableObjectAlarm(gateFor(env, "analytics"))).toBe(true);
    for (const ref of refs.slice(1)) expect(await alarmIn(ref)).toBeLessThanOrEqual(0);
    for (const ref of refs.slice(1)) await runDurableObjectAlarm(ledger(ref));
    for (const ref of refs) expect(got("analytics", ref)).toEqual(["created"]);
  });
});

describe("operators, with the read model down", () => {
  it("pause and resume still work (the gate is the authority); the backlog is unknown", async () => {
    quiet();
    await env.READ_MODEL.exec("ALTER TABLE events RENAME TO events_away");
    try {
      const paused = await adminFetch("/destinations/erp/pause", { method: "POST" });
      expect(paused.status).toBe(200);
      expect(await paused.json()).toMatchObject({ name: "erp", state: "paused", pending: null });
      expect((await gateFor(env, "erp").state()).state).toBe("paused");
      const resumed = await adminFetch("/destinations/erp/resume", { method: "POST" });
      expect(resumed.status).toBe(200);
      expect(await resumed.json()).toMatchObject({ state: "active", pending: null });
      const list = await adminFetch("/destinations");
      expect(list.status).toBe(200);
    } finally {
      await env.READ_MODEL.exec("ALTER TABLE events_away RENAME TO events");
    }
  });
});

describe("bulk redelivery of dead letters", () => {
  it("re-sends only to the destination where the event is dead, not to those that took it", async () => {
    quiet();
    const ref = uniqueRef("bulk-dead");
    let erpDown = true;
    origin.answer((r) => new Response(null, { status: erpDown && nameOf(r) === "erp" ? 500 : 204 }));
    expect(await send(ref, "paid")).toBe("accepted");
    for (let i = 0; i < 20; i++) {
      await runDurableObjectAlarm(ledger(ref));
      const report = await ledger(ref).inspect();
      if (report.deliveries.some((d) => d.destination === "erp" && d.state === "dead")) break;
      testClock.advance(16 * 3600 * 1000); // past the longest retry delay with its jitter
    }
    const report = await ledger(ref).inspect();
    expect(report.deliveries.map((d) => [d.destination, d.state]).sort()).toEqual([
      ["analytics", "delivered"],
      ["default", "delivered"],
      ["erp", "dead"],
    ]);
    erpDown = false;
    const response = await adminFetch("/redeliver", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ q: ref, delivery: "dead" }),
    });
    expect(await response.json()).toEqual({ requeued: 1 });
    testClock.advance(31_000); // erp's breaker (opened by the failures) lets the next request through as a probe
    expect(await runDurableObjectAlarm(ledger(ref))).toBe(true);
    expect(got("erp", ref)).toEqual(["paid"]);
    expect(got("default", ref)).toEqual(["paid"]);
    expect(got("analytics", ref)).toEqual(["paid"]);
  });
});

describe("a destination's test event", () => {
  it("is a signed gateway.test sent to that destination only, recorded like any delivery", async () => {
    const response = await adminFetch("/destinations/erp/test", { method: "POST" });
    expect(response.status).toBe(202);
    const sent = await response.json<{ event_id: string; object: string }>();
    expect(sent.object).toBe("gateway:test:erp");
    const stub = ledgerFor(env, "gateway", "test", "erp");
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const got = origin.acknowledged.filter((r) => envelope(r).id === sent.event_id);
    expect(got.map((r) => nameOf(r))).toEqual(["erp"]);
    const verified = verifyAtClock(got[0] as Received, "whsec_ZXJwLXRlc3Qtc2VjcmV0LTAxMjM0NTY3ODk=");
    expect(verified).toMatchObject({ type: "gateway.test", provider: "gateway", object_ref: "erp" });
    const report = await stub.inspect();
    expect(report.events.find((e) => e.event_id === sent.event_id)).toMatchObject({ delivery: "delivered" });
    expect((await adminFetch("/destinations/nobody/test", { method: "POST" })).status).toBe(404);
    // A second test is a new event, with its own webhook-id.
    const again = await (await adminFetch("/destinations/erp/test", { method: "POST" })).json<{ event_id: string }>();
    expect(again.event_id).not.toBe(sent.event_id);
  });
});
