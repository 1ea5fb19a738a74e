// The operator API: closed unless configured, bearer-token auth, object reports, dead letters
// after the retry budget (moved through with the injected clock), and redelivery.
import { createExecutionContext, runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { RETRY_DELAYS_SECONDS } from "../src/lib/retry";
import worker from "../src/index";
import { BASE, KINDS, deliver, eventFor, ledgerOf, resultOf, uniqueRef } from "./helpers";
import { origin, testClock } from "./stand-ins";
import { testEnv } from "./env";
import { TOKEN, adminFetch } from "./admin-helpers";

const LINK = KINDS["payment-link"];

const statusOf = (body: string) => (JSON.parse(body) as { status: string }).status;

describe("admin API access", () => {
  it("answers 404 for every route when ADMIN_TOKEN is unset", async () => {
    for (const token of [undefined, ""]) {
      const closed = testEnv({ ADMIN_TOKEN: token });
      for (const path of ["/dead-letters", "/objects/portone/payment/x", "/anything"]) {
        const response = await worker.fetch(
          new Request(`${BASE}/admin${path}`, { headers: { authorization: "Bearer " } }),
          closed,
          createExecutionContext(),
        );
        expect(response.status).toBe(404);
      }
    }
  });

  it("answers 401 for a missing or wrong token, with a JSON error", async () => {
    for (const token of [null, "wrong", `${TOKEN}x`, TOKEN.slice(1)]) {
      const response = await adminFetch("/dead-letters", {}, token);
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toContain("Bearer");
      expect(await response.json()).toMatchObject({ error: "unauthorized" });
    }
    expect((await adminFetch("/dead-letters")).status).toBe(200);
  });

  it("answers 404 for an object that never had an event or a kind that has no ledger", async () => {
    expect((await adminFetch(`/objects/portone/payment/${uniqueRef("none")}`)).status).toBe(404);
    const unknown = await adminFetch("/objects/portone/payout/x");
    expect(unknown.status).toBe(404);
    // The message names every kind that has objects, the generic sources' too.
    const { message } = await unknown.json<{ message: string }>();
    expect(message).toContain("portone/<payment|payment_link|subscription_link>");
    expect(message).toContain("acme/event");
    expect(message).toContain("shop/order");
  });
});

describe("object report", () => {
  it("shows state, history with delivery status, and each attempt's time and HTTP status, but no payload", async () => {
    const ref = uniqueRef("report");
    await deliver("payment-link", await eventFor("payment-link", ref, "Created"));
    await deliver("payment-link", await eventFor("payment-link", ref, "Success"));
    await deliver("payment-link", await eventFor("payment-link", ref, "Expired"));
    expect(await runDurableObjectAlarm(ledgerOf(LINK, ref))).toBe(true);
    const response = await adminFetch(`/objects/portone/payment_link/${ref}`);
    expect(response.status).toBe(200);
    const report = await response.json<{
      state: Array<{ status: string }>;
      events: Array<{ status: string; outcome: string; delivery: string | null }>;
      attempts: Array<{ outcome: string; http_status: number; started_at: string }>;
    }>();
    expect(report.state[0]?.status).toBe("Success");
    expect(report.events.map((e) => [e.status, e.outcome, e.delivery])).toEqual([
      ["Created", "accepted", "delivered"],
      ["Success", "accepted", "delivered"],
      ["Expired", "stale", null],
    ]);
    expect(report.attempts.map((a) => [a.outcome, a.http_status])).toEqual([
      ["delivered", 204],
      ["delivered", 204],
    ]);
    expect(report.attempts[0]?.started_at).toBe(new Date(testClock.now).toISOString());
    expect(JSON.stringify(report)).not.toContain("customer@example.com");
  });
});

describe("dead letters", () => {
  it("after the retry budget an event is dead-lettered, the events behind it proceed, and it can be redelivered", async () => {
    const ref = uniqueRef("dead");
    origin.answer((request) =>
      request.text().then((body) => new Response(null, { status: statusOf(body) === "Created" ? 500 : 200 })),
    );
    await deliver("payment-link", await eventFor("payment-link", ref, "Created"));
    await deliver("payment-link", await eventFor("payment-link", ref, "Success"));
    const stub = ledgerOf(LINK, ref);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    for (const delay of RETRY_DELAYS_SECONDS) {
      expect(origin.acknowledged).toHaveLength(0); // Success waits behind the retried Created
      testClock.advance(delay * 1000 * 1.25 + 1);
      expect(await runDurableObjectAlarm(stub)).toBe(true);
    }
    expect(origin.received.filter((r) => statusOf(r.body) === "Created")).toHaveLength(RETRY_DELAYS_SECONDS.length + 1);
    // Five failures in a row opened the destination's breaker: the event behind goes as its next
    // probe, at most 30 s later, and closes it.
    testClock.advance(30_000);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(origin.acknowledged.map((r) => statusOf(r.body))).toEqual(["Success"]);

    const listed = await (
      await adminFetch("/dead-letters")
    ).json<{
      dead_letters: Array<{ object: string; event_id: string; status: string; last_error: string }>;
    }>();
    const entry = listed.dead_letters.find((d) => d.object === `portone:payment_link:${ref}`);
    expect(entry).toMatchObject({ status: "Created", last_error: "merchant.test answered 500" });

    const report = await stub.inspect();
    expect(report.events.map((e) => e.delivery)).toEqual(["dead", "delivered"]);

    origin.answer(() => new Response(null, { status: 200 }));
    const redeliver = await adminFetch(`/objects/portone/payment_link/${ref}/events/${entry?.event_id}/redeliver`, {
      method: "POST",
    });
    expect(redeliver.status).toBe(202);
    expect(await redeliver.json()).toEqual({ requeued: [entry?.event_id] });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(origin.acknowledged.map((r) => statusOf(r.body))).toEqual(["Success", "Created"]);
    const after = await (await adminFetch("/dead-letters")).json<{ dead_letters: Array<{ object: string }> }>();
    expect(after.dead_letters.some((d) => d.object === `portone:payment_link:${ref}`)).toBe(false);
  });

  it("redeliver-dead re-queues every dead letter of an object; a stale event cannot be redelivered", async () => {
    const ref = uniqueRef("dead-all");
    origin.answer(() => new Response(null, { status: 502 }));
    await deliver("payment-link", await eventFor("payment-link", ref, "Created"));
    const stale = await eventFor("payment-link", ref, "Created", { amount: 12345 });
    await deliver("payment-link", await eventFor("payment-link", ref, "Success"));
    expect(await resultOf(await deliver("payment-link", stale))).toBe("stale");
    const stub = ledgerOf(LINK, ref);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    // 13 h apart, every retry is due and the open breaker's probe interval (30 s) has passed: each run
    // spends one attempt of the head until both events are dead.
    for (let run = 0; run < 40; run++) {
      const deliveries = (await stub.inspect()).events.map((e) => e.delivery);
      if (deliveries[0] === "dead" && deliveries[1] === "dead") break;
      testClock.advance(13 * 3600 * 1000);
      expect(await runDurableObjectAlarm(stub)).toBe(true);
    }
    expect((await stub.inspect()).events.map((e) => e.delivery)).toEqual(["dead", "dead", null]);
    origin.answer(() => new Response(null, { status: 200 }));
    const staleId = (await stub.inspect()).events[2]?.event_id as string;
    expect(
      (await adminFetch(`/objects/portone/payment_link/${ref}/events/${staleId}/redeliver`, { method: "POST" })).status,
    ).toBe(404);
    const response = await adminFetch(`/objects/portone/payment_link/${ref}/redeliver-dead`, { method: "POST" });
    expect(response.status).toBe(202);
    expect((await response.json<{ requeued: string[] }>()).requeued).toHaveLength(2);
    // The breaker is still open from the failures: the first re-queued event is its next probe (at
    // most 30 s on); its success closes the breaker and the second follows in the same run.
    testClock.advance(30_000);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(origin.acknowledged.map((r) => statusOf(r.body))).toEqual(["Created", "Success"]);
  });
});
