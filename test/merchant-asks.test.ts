// What merchants' servers ask of a receiver (design: "early webhooks, filters, the original request"):
// a new object's 404/409/425 retried soon without the budget or the breaker; maxAttempts; a filter over
// proven fields only; the provider's request, byte for byte, for a destination that asks for it.
// The `picky` destination and source are in fixtures/environments.ts.
import { createExecutionContext, runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import { parseDestinations } from "../src/config/destinations";
import { gateFor } from "../src/egress/gate";
import { ledgerFor } from "../src/ledger/client";
import { NOT_READY_WINDOW_MS } from "../src/lib/retry";
import { KINDS, deliver, eventFor, ledgerOf, referenceHmac, resultOf, uniqueRef } from "./helpers";
import { envelope, origin, testClock, type Received } from "./stand-ins";

const toPicky = (r: Received) => r.url.endsWith("/webhooks/picky");
const toDefault = (r: Received) => r.url === "https://merchant.test/webhooks";

async function picky(body: string, extraHeaders: Record<string, string> = {}): Promise<Response> {
  const signature = [...(await referenceHmac("picky-test-secret-0123456789", body))]
    .map((b) => b.toString(16).padStart(2, "0"))
    .join("");
  return worker.fetch(
    new Request("https://gateway.test/webhooks/hmac/picky", {
      method: "POST",
      body,
      headers: { "content-type": "application/json", "x-signature": signature, cookie: "s=1", ...extraHeaders },
    }),
    env,
    createExecutionContext(),
  );
}

/** The origin answers each request to `path` with the next status of `statuses` (then 204). */
function answers(statuses: number[], which: (r: Received) => boolean = toDefault): void {
  const queue = [...statuses];
  origin.answer((request) => {
    const status = which({ url: request.url, headers: {}, body: "" }) ? (queue.shift() ?? 204) : 204;
    return new Response(status === 204 ? null : "no such order", { status });
  });
}

const runUntilIdle = async (stub: DurableObjectStub, stepMs: number, maxRuns = 12) => {
  for (let i = 0; i < maxRuns; i++) {
    await runDurableObjectAlarm(stub);
    testClock.advance(stepMs);
  }
};

describe("a webhook that arrives before the merchant's system knows the order", () => {
  it("404, 409, 425 in a new object's first minutes: retried 5, 15, 30 s apart, no budget, no breaker", async () => {
    const ref = uniqueRef("early");
    const before = await gateFor(env, "default").state();
    answers([404, 409, 425]);
    expect(await resultOf(await deliver("payment", await eventFor("payment", ref, "Success")))).toBe("accepted");
    const stub = ledgerOf(KINDS.payment, ref);
    const started = testClock.now;
    await runUntilIdle(stub, 5_000, 15);
    expect(origin.acknowledged.filter(toDefault)).toHaveLength(1);
    const attempts = origin.received.filter(toDefault);
    expect(attempts).toHaveLength(4);
    // 5 + 15 + 30 s, each stretched by at most 25 % jitter, stepped by 5 s: the fourth attempt went out
    // within 75 s of the first (the usual schedule's budget would have been 5 s, 30 s, 2 min...).
    const last = (await stub.inspect()).attempts.at(-1);
    expect(Date.parse(typeof last?.started_at === "string" ? last.started_at : "") - started).toBeLessThanOrEqual(
      75_000,
    );
    const report = await stub.inspect();
    expect(report.attempts.map((a) => a.outcome)).toEqual(["not_ready", "not_ready", "not_ready", "delivered"]);
    expect(report.events[0]).toMatchObject({ delivery: "delivered" });
    const after = await gateFor(env, "default").state();
    expect(after.consecutive_failures).toBe(before.consecutive_failures);
    expect(after.breaker).toBe("closed");
  });

  it("after the object's first 10 minutes, a 404 is a failure like any other", async () => {
    const ref = uniqueRef("late");
    origin.answer(() => new Response(null, { status: 204 }));
    await deliver("payment", await eventFor("payment", ref, "Pending"));
    const stub = ledgerOf(KINDS.payment, ref);
    await runDurableObjectAlarm(stub);
    testClock.advance(NOT_READY_WINDOW_MS + 1_000);
    answers([404]);
    await deliver("payment", await eventFor("payment", ref, "Success"));
    await runDurableObjectAlarm(stub);
    const report = await stub.inspect();
    expect(report.attempts.map((a) => a.outcome)).toEqual(["delivered", "failed"]);
  });

  it("a 404 after an earlier event of the object was delivered there counts at once; a 500 always counts", async () => {
    const ref = uniqueRef("known");
    await deliver("payment", await eventFor("payment", ref, "Pending"));
    const stub = ledgerOf(KINDS.payment, ref);
    await runDurableObjectAlarm(stub);
    testClock.advance(1_000);
    answers([404]);
    await deliver("payment", await eventFor("payment", ref, "Success"));
    await runDurableObjectAlarm(stub);
    const other = uniqueRef("plain-500");
    answers([500]);
    await deliver("payment", await eventFor("payment", other, "Success"));
    await runDurableObjectAlarm(ledgerOf(KINDS.payment, other));
    expect((await stub.inspect()).attempts.map((a) => a.outcome)).toEqual(["delivered", "failed"]);
    expect((await ledgerOf(KINDS.payment, other).inspect()).attempts.map((a) => a.outcome)).toEqual(["failed"]);
    expect((await gateFor(env, "default").state()).consecutive_failures).toBeGreaterThanOrEqual(2);
  });
});

describe("a destination's filter, maxAttempts and original", () => {
  it("queues only what matches its proven fields; the rest is `filtered` there, never pending", async () => {
    const [jpy, usd] = [uniqueRef("jpy"), uniqueRef("usd")];
    expect(await resultOf(await picky(JSON.stringify({ id: jpy, status: "paid", currency: "JPY" })))).toBe("accepted");
    expect(await resultOf(await picky(JSON.stringify({ id: usd, status: "paid", currency: "USD" })))).toBe("accepted");
    for (const ref of [jpy, usd]) await runDurableObjectAlarm(ledgerFor(env, "picky", "order", ref));
    expect(origin.acknowledged.filter(toPicky).map((r) => envelope(r).object_ref)).toEqual([jpy]);
    expect(origin.acknowledged.filter(toDefault)).toHaveLength(2);
    const report = await ledgerFor(env, "picky", "order", usd).inspect();
    expect(report.deliveries).toContainEqual(expect.objectContaining({ destination: "picky", state: "filtered" }));
    expect(report.deliveries).toContainEqual(expect.objectContaining({ destination: "default", state: "delivered" }));
  });

  it("never matches an unverified field, and refuses a filter that names one or what it cannot read", () => {
    const base = { url: "https://merchant.test/x", secret: "whsec_cGlja3ktdGVzdC1zZWNyZXQtMDEyMzQ1Njc=" };
    const refused = (filter: unknown) => {
      const parsed = parseDestinations(JSON.stringify({ x: { ...base, filter } }));
      return parsed.ok ? null : `${parsed.error.key}: ${parsed.error.message}`;
    };
    expect(refused({ unverified: { currency: "JPY" } })).toMatch(/^DESTINATIONS\.x\.filter: unverified/);
    expect(refused({ data: { amount: { gt: 5 } } })).toBeNull(); // an object matches recursively: a key "gt"
    expect(refused({ data: { tags: [[1]] } })).toMatch(/DESTINATIONS\.x\.filter/);
    expect(refused([])).toMatch(/DESTINATIONS\.x\.filter/);
    expect(refused({ status: "paid" })).toBeNull();
  });

  it("carries the provider's request byte for byte, with the signature header and never a cookie", async () => {
    const ref = uniqueRef("orig");
    const body = `{"id":"${ref}","status":"created","currency":"SGD","note":"caf\u00e9 \\u00e9"}`;
    expect(await resultOf(await picky(body))).toBe("accepted");
    await runDurableObjectAlarm(ledgerFor(env, "picky", "order", ref));
    const [forwarded] = origin.acknowledged.filter(toPicky).map(envelope);
    const original = (forwarded as { original?: { headers: Record<string, string>; body: string } }).original;
    const bytes = Uint8Array.from(atob(original?.body ?? ""), (ch) => ch.charCodeAt(0));
    expect(new TextDecoder().decode(bytes)).toBe(body);
    expect(Object.keys(original?.headers ?? {}).sort()).toEqual(["content-type", "x-signature"]);
    const plain = origin.acknowledged.filter(toDefault).map(envelope);
    expect(plain.every((e) => !("original" in e))).toBe(true);
  });

  it("dead-letters after maxAttempts failed attempts", async () => {
    const ref = uniqueRef("max");
    answers([500, 500, 500], toPicky);
    await picky(JSON.stringify({ id: ref, status: "paid", currency: "JPY" }));
    const stub = ledgerFor(env, "picky", "order", ref);
    await runUntilIdle(stub, 60_000, 5);
    const report = await stub.inspect();
    expect(report.deliveries).toContainEqual(expect.objectContaining({ destination: "picky", state: "dead" }));
    expect(report.attempts.filter((a) => a.destination === "picky")).toHaveLength(2);
  });
});
