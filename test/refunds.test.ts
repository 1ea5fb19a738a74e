// Refunds (spec §4.4, §11): the unsigned webhook is only a hint. It is stored and answered 200,
// then confirmed with PortOne's API (a stand-in at the fetch boundary); only the API's status and
// amount are forwarded, after the payment's own events.
import { runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { KINDS, deliver, eventFor, ledgerOf, post, referenceHmac, resultOf, SECRET, uniqueRef } from "./helpers";
import { refundSample } from "../fixtures/portone-samples";
import { UNSETTLED_RETRY_SECONDS } from "../src/ledger/confirm";
import { origin, PORTONE_API, portoneApi, testClock } from "./stand-ins";

const PAYMENT = KINDS.payment;
const typeOf = (body: string) => (JSON.parse(body) as { type: string }).type;

function refundHint(paymentRef: string, refundId: string, extra: Record<string, unknown> = {}) {
  return { ...refundSample, payment_txn_ref: paymentRef, refund_id: refundId, ...extra };
}

function apiListing(refunds: Array<Record<string, unknown>>) {
  return () => Response.json({ content: { refundDetails: refunds } });
}

async function hmacBase64Url(secret: string, message: string): Promise<string> {
  const mac = await referenceHmac(secret, message);
  return btoa(String.fromCharCode(...mac))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

describe("refunds", () => {
  it("a refund confirmed by PortOne is forwarded with the API's status and amount, after its payment", async () => {
    const [paymentRef, refundId] = [uniqueRef("pay"), uniqueRef("rf")];
    portoneApi.answer(apiListing([{ refund_id: refundId, refund_status: "IN_QUEUE", amount: 500, currency: "JPY" }]));
    expect(await resultOf(await deliver("payment", await eventFor("payment", paymentRef, "Success")))).toBe("accepted");
    const hint = refundHint(paymentRef, refundId, { amount: 999, refund_status: "SUCCESS" });
    expect(await resultOf(await post("/webhooks/portone/refund", hint))).toBe("accepted");
    expect(await resultOf(await post("/webhooks/portone/refund", hint))).toBe("duplicate");
    expect(await runDurableObjectAlarm(ledgerOf(PAYMENT, paymentRef))).toBe(true);

    expect(portoneApi.requests).toHaveLength(1);
    const [call] = portoneApi.requests;
    expect(call?.url).toBe(`${PORTONE_API}/api/refund/${paymentRef}`);
    expect(call?.headers["x-portone-client-key"]).toBe("test-portone-key");
    const [header, claims, signature] = (call?.headers.authorization ?? "").replace(/^Bearer /, "").split(".") as [
      string,
      string,
      string,
    ];
    expect(await hmacBase64Url(SECRET, `${header}.${claims}`)).toBe(signature);
    const decoded = JSON.parse(atob(claims.replace(/-/g, "+").replace(/_/g, "/"))) as Record<string, number | string>;
    expect(JSON.parse(atob(header))).toEqual({ alg: "HS256", typ: "JWT" });
    expect(decoded).toEqual({
      iss: "PORTONE",
      sub: "test-portone-key",
      iat: Math.floor(testClock.now / 1000),
      exp: Math.floor(testClock.now / 1000) + 100,
    });

    expect(origin.acknowledged.map((r) => typeOf(r.body))).toEqual([
      "portone.payment.success",
      "portone.refund.in_queue",
    ]);
    const refund = JSON.parse(origin.acknowledged[1]?.body ?? "{}") as {
      kind: string;
      object_ref: string;
      status: string;
      data: Record<string, unknown>;
    };
    expect(refund).toMatchObject({ kind: "refund", object_ref: refundId, status: "IN_QUEUE" });
    expect(refund.data).toEqual({
      refund_id: refundId,
      refund_status: "IN_QUEUE",
      amount: 500,
      currency: "JPY",
      payment_txn_ref: paymentRef,
    });
  });

  it("a later hint re-confirms: a status change is forwarded, the same status is not forwarded twice", async () => {
    const [paymentRef, refundId] = [uniqueRef("pay"), uniqueRef("rf")];
    const stub = ledgerOf(PAYMENT, paymentRef);
    portoneApi.answer(apiListing([{ refund_id: refundId, refund_status: "IN_QUEUE", amount: 500 }]));
    await post("/webhooks/portone/refund", refundHint(paymentRef, refundId, { refund_status: "IN_QUEUE" }));
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    await post("/webhooks/portone/refund", refundHint(paymentRef, refundId, { refund_date: "again" }));
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    portoneApi.answer(apiListing([{ refund_id: refundId, refund_status: "SUCCESS", amount: 500 }]));
    await post("/webhooks/portone/refund", refundHint(paymentRef, refundId, { refund_status: "SUCCESS" }));
    testClock.advance(61_000); // PortOne's API is asked about one refund at most once a minute
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(origin.acknowledged.map((r) => typeOf(r.body))).toEqual([
      "portone.refund.in_queue",
      "portone.refund.success",
    ]);
  });

  it("a refund PortOne's API does not list yet is asked about again, and forwarded once it is listed", async () => {
    const [paymentRef, refundId] = [uniqueRef("pay"), uniqueRef("lag")];
    let listed = false;
    portoneApi.answer(() =>
      listed
        ? Response.json({ refundDetails: [{ refund_id: refundId, refund_status: "SUCCESS", amount: 300 }] })
        : Response.json({ refundDetails: [] }),
    );
    expect(await resultOf(await post("/webhooks/portone/refund", refundHint(paymentRef, refundId)))).toBe("accepted");
    const stub = ledgerOf(PAYMENT, paymentRef);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await stub.inspect()).refunds).toMatchObject([{ state: "confirming", confirm_attempts: 1 }]);
    listed = true;
    testClock.advance(61_000);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(origin.acknowledged.map((r) => typeOf(r.body))).toEqual(["portone.refund.success"]);
    expect((await stub.inspect()).refunds).toMatchObject([{ state: "confirmed", confirmed_status: "SUCCESS" }]);
  });

  it("a refund PortOne never lists is given up after about a day, never forwarded; the same hint again asks again", async () => {
    const [paymentRef, refundId] = [uniqueRef("pay"), uniqueRef("forged")];
    portoneApi.answer(apiListing([{ refund_id: "another", refund_status: "SUCCESS", amount: 1 }]));
    const hint = refundHint(paymentRef, refundId);
    expect(await resultOf(await post("/webhooks/portone/refund", hint))).toBe("accepted");
    const stub = ledgerOf(PAYMENT, paymentRef);
    const started = testClock.now;
    while (await runDurableObjectAlarm(stub)) testClock.advance(8 * 3600 * 1000);
    expect(portoneApi.requests).toHaveLength(UNSETTLED_RETRY_SECONDS.length + 1);
    expect(testClock.now - started).toBeGreaterThan(20 * 3600 * 1000); // asked over about a day
    expect(origin.received).toHaveLength(0);
    const report = await stub.inspect();
    expect(report.refunds).toMatchObject([
      {
        refund_id: refundId,
        state: "unconfirmed",
        last_error: "gave up after a day: PortOne lists no refund with this refund_id",
      },
    ]);
    expect(report.events).toHaveLength(0);
    // Sent again, the hint is a duplicate to the provider but has PortOne's API asked again.
    expect(await resultOf(await post("/webhooks/portone/refund", hint))).toBe("duplicate");
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(portoneApi.requests).toHaveLength(UNSETTLED_RETRY_SECONDS.length + 2);
    expect((await stub.inspect()).refunds).toMatchObject([{ state: "confirming", confirm_attempts: 1 }]);
  });

  it("while PortOne's API is down the confirmation is retried with backoff, then forwarded once it answers", async () => {
    const [paymentRef, refundId] = [uniqueRef("pay"), uniqueRef("rf")];
    let up = false;
    portoneApi.answer(() => {
      if (!up) throw new TypeError("Network connection lost");
      return Response.json({ refundDetails: [{ refund_id: refundId, refund_status: "SUCCESS", amount: 250 }] });
    });
    await post("/webhooks/portone/refund", refundHint(paymentRef, refundId));
    const stub = ledgerOf(PAYMENT, paymentRef);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    testClock.advance(7_000);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(portoneApi.requests).toHaveLength(2);
    expect(origin.received).toHaveLength(0);
    expect((await stub.inspect()).refunds).toMatchObject([{ state: "confirming", confirm_attempts: 2 }]);
    up = true;
    testClock.advance(40_000);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(origin.acknowledged.map((r) => typeOf(r.body))).toEqual(["portone.refund.success"]);
    expect((await stub.inspect()).refunds).toMatchObject([{ state: "confirmed", confirmed_status: "SUCCESS" }]);
  });

  it.each([
    ["no refund_id", { refund_id: undefined }, 400, "missing_object_ref"],
    ["an empty payment_txn_ref", { payment_txn_ref: "" }, 400, "missing_object_ref"],
    ["a numeric refund_id", { refund_id: 42 }, 400, "invalid_field_type"],
  ])("refuses a hint with %s", async (_name, override, status, error) => {
    const response = await post("/webhooks/portone/refund", { ...refundSample, ...override });
    expect(response.status).toBe(status);
    expect(await response.json()).toMatchObject({ error });
  });

  it("refuses a body that is not a JSON object, and methods other than POST", async () => {
    expect((await post("/webhooks/portone/refund", "[]")).status).toBe(400);
    expect((await post("/webhooks/portone/refund", "{")).status).toBe(400);
    expect((await post("/webhooks/portone/refund", "", { method: "GET", body: null })).status).toBe(405);
  });
});
