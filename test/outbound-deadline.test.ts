// One deadline covers the whole outbound exchange, body included, and the body read is bounded
// (lib/outbound.ts): an answer that sends its headers and then a byte every 200 ms cannot hold a
// reconciliation pass, a refund-confirming alarm or a console request behind Access past it.
import { createExecutionContext, runDurableObjectAlarm } from "cloudflare:test";
import { sign } from "hono/jwt";
import { describe, expect, it, vi } from "vitest";
import worker from "../src/index";
import { fetchBounded } from "../src/lib/outbound";
import { adminFetch } from "./admin-helpers";
import { testEnv } from "./env";
import { BASE, KINDS, deliver, eventFor, ledgerOf, post, uniqueRef } from "./helpers";
import { refundSample } from "../fixtures/portone-samples";
import { ACCESS_TEAM, accessTeam, ORIGIN_URL, origin, portoneApi, testClock } from "./stand-ins";

/** Headers at once, then one byte every 200 ms, without end. */
function dripping(): Response {
  let timer: ReturnType<typeof setInterval> | undefined;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode("{"));
      timer = setInterval(() => {
        try {
          controller.enqueue(new TextEncoder().encode(" "));
        } catch {
          clearInterval(timer);
        }
      }, 200);
    },
    cancel() {
      clearInterval(timer);
    },
  });
  return new Response(body, { status: 200, headers: { "content-type": "application/json" } });
}

const seconds = (since: number) => (Date.now() - since) / 1000;

describe("the outbound deadline", () => {
  it("covers the body: a dripping answer is a TimeoutError at the deadline", async () => {
    origin.answer(dripping);
    const started = Date.now();
    await expect(fetchBounded(ORIGIN_URL, {}, { timeoutMs: 600, maxBytes: 1024 })).rejects.toMatchObject({
      name: "TimeoutError",
    });
    expect(seconds(started)).toBeLessThan(2);
  });

  it("reads at most maxBytes of a body and says it was cut", async () => {
    origin.answer(() => new Response("x".repeat(200_000)));
    const answer = await fetchBounded(ORIGIN_URL, {}, { timeoutMs: 5_000, maxBytes: 1000 });
    expect(answer).toMatchObject({ status: 200, truncated: true });
    expect(answer.body.length).toBeLessThanOrEqual(1000);
    const whole = await fetchBounded(ORIGIN_URL, {}, { timeoutMs: 5_000, maxBytes: 300_000 });
    expect(whole).toMatchObject({ truncated: false });
    expect(whole.body).toHaveLength(200_000);
  });

  it("holds neither a reconciliation pass, a refund-confirming alarm nor the console behind Access past it", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => undefined);
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    const [paymentRef, refundId] = [uniqueRef("drip"), uniqueRef("drip-rf")];
    await deliver("payment", await eventFor("payment", paymentRef, "Pending"));
    const stub = ledgerOf(KINDS.payment, paymentRef);
    while (await runDurableObjectAlarm(stub));
    await post("/webhooks/portone/refund", { ...refundSample, payment_txn_ref: paymentRef, refund_id: refundId });
    portoneApi.answer(dripping);
    accessTeam.answer(dripping);
    testClock.advance(31 * 60_000);

    const withAccess = testEnv({ CF_ACCESS_TEAM_DOMAIN: ACCESS_TEAM, CF_ACCESS_AUD: "aud" });
    const now = Math.floor(Date.now() / 1000);
    const key = (await crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, true, ["sign"])) as CryptoKey;
    const jwk = (await crypto.subtle.exportKey("jwk", key)) as JsonWebKey;
    const assertion = await sign({ sub: "x", iat: now, exp: now + 60 }, jwk, "HS256");
    const started = Date.now();
    const [pass, refundRun, consolePage] = await Promise.all([
      adminFetch("/reconcile", { method: "POST" }),
      runDurableObjectAlarm(stub).then(() => seconds(started)),
      Promise.resolve(
        worker.fetch(
          new Request(`${BASE}/console`, { headers: { "cf-access-jwt-assertion": assertion } }),
          withAccess,
          createExecutionContext(),
        ),
      ).then((r) => ({ status: r.status, after: seconds(started) })),
    ]);
    expect(pass.status).toBe(200);
    expect(seconds(started)).toBeLessThan(13);
    expect(refundRun).toBeLessThan(13);
    expect(consolePage).toMatchObject({ status: 403 });
    expect(consolePage.after).toBeLessThan(8);
    // Nothing was learned from the answers that never ended: the refund waits for another try.
    expect((await stub.inspect()).refunds).toMatchObject([{ state: "confirming" }]);
  }, 30_000);
});
