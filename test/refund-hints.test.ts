// Refund hints are unsigned (spec §4.4): what they claim is checked with PortOne's API until the API
// shows it, and nothing they carry may cost the merchant more than a bounded number of API calls and
// stored rows (a hint is its refund_id and refund_status; one refund is asked about at most once a
// minute; a payment PortOne does not know stops the asking).
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { KINDS, ledgerOf, post, resultOf, uniqueRef } from "./helpers";
import { refundSample } from "../fixtures/portone-samples";
import { CONFIRMATION_LIMITS, UNKNOWN_PAYMENT_WAIT_MS } from "../src/ledger/confirmations";
import { UNSETTLED_RETRY_SECONDS } from "../src/ledger/confirm";
import { origin, portoneApi, testClock } from "./stand-ins";

const PAYMENT = KINDS.payment;
const typeOf = (body: string) => (JSON.parse(body) as { type: string }).type;
const hint = (paymentRef: string, refundId: string, extra: Record<string, unknown> = {}) => ({
  ...refundSample,
  payment_txn_ref: paymentRef,
  refund_id: refundId,
  ...extra,
});
const listing = (refundId: string, status: () => string) => () =>
  Response.json({ refundDetails: [{ refund_id: refundId, refund_status: status(), amount: 500, currency: "JPY" }] });

async function storedRows(paymentRef: string): Promise<{ hints: number; refunds: number }> {
  return runInDurableObject(ledgerOf(PAYMENT, paymentRef), (_o, state) =>
    state.storage.sql
      .exec<{ hints: number; refunds: number }>(
        "SELECT (SELECT count(*) FROM hints) AS hints, (SELECT count(*) FROM confirmations) AS refunds",
      )
      .one(),
  );
}

describe("refund hints", () => {
  it("a SUCCESS hint met by IN_QUEUE stays being confirmed, and success is forwarded once PortOne shows it", async () => {
    const [paymentRef, refundId] = [uniqueRef("pay"), uniqueRef("rf")];
    let status = "IN_QUEUE";
    portoneApi.answer(listing(refundId, () => status));
    const stub = ledgerOf(PAYMENT, paymentRef);
    expect(await resultOf(await post("/webhooks/portone/refund", hint(paymentRef, refundId)))).toBe("accepted");
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await stub.inspect()).refunds).toMatchObject([{ state: "confirming", confirm_attempts: 1 }]);
    status = "SUCCESS";
    testClock.advance(UNSETTLED_RETRY_SECONDS[0]! * 1000);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(origin.acknowledged.map((r) => typeOf(r.body))).toEqual([
      "portone.refund.in_queue",
      "portone.refund.success",
    ]);
    expect((await stub.inspect()).refunds).toMatchObject([{ state: "confirmed", confirmed_status: "SUCCESS" }]);
  });

  it("a refund PortOne keeps IN_QUEUE for a day while the hint said SUCCESS ends unconfirmed, not silently", async () => {
    const [paymentRef, refundId] = [uniqueRef("pay"), uniqueRef("rf")];
    portoneApi.answer(listing(refundId, () => "IN_QUEUE"));
    const stub = ledgerOf(PAYMENT, paymentRef);
    await post("/webhooks/portone/refund", hint(paymentRef, refundId));
    const started = testClock.now;
    while (await runDurableObjectAlarm(stub)) testClock.advance(8 * 3600 * 1000);
    expect(testClock.now - started).toBeGreaterThan(20 * 3600 * 1000);
    expect(portoneApi.requests).toHaveLength(UNSETTLED_RETRY_SECONDS.length + 1);
    expect(origin.acknowledged.map((r) => typeOf(r.body))).toEqual(["portone.refund.in_queue"]);
    const [refund] = (await stub.inspect()).refunds;
    expect(refund).toMatchObject({ state: "unconfirmed" });
    expect(refund?.last_error).toContain("PortOne says IN_QUEUE; the hint said SUCCESS");
  });

  it("hints that differ only in unsigned fields are one hint: one row and one API call", async () => {
    const [paymentRef, refundId] = [uniqueRef("pay"), uniqueRef("rf")];
    portoneApi.answer(listing(refundId, () => "SUCCESS"));
    const results = [];
    for (let i = 0; i < 30; i++)
      results.push(await resultOf(await post("/webhooks/portone/refund", hint(paymentRef, refundId, { junk: i }))));
    expect(results.filter((r) => r === "accepted")).toHaveLength(1);
    expect(results.filter((r) => r === "duplicate")).toHaveLength(29);
    while (await runDurableObjectAlarm(ledgerOf(PAYMENT, paymentRef))) testClock.advance(61_000);
    expect(portoneApi.requests).toHaveLength(1);
    expect(await storedRows(paymentRef)).toEqual({ hints: 1, refunds: 1 });
  });

  it("asks PortOne about one refund at most once a minute, however many hints of new statuses come", async () => {
    const [paymentRef, refundId] = [uniqueRef("pay"), uniqueRef("rf")];
    portoneApi.answer(listing(refundId, () => "SUCCESS"));
    const stub = ledgerOf(PAYMENT, paymentRef);
    for (const [i, status] of ["IN_QUEUE", "PENDING", "SUCCESS", "PROCESSING", "FAILED"].entries()) {
      await post("/webhooks/portone/refund", hint(paymentRef, refundId, { refund_status: status }));
      await runDurableObjectAlarm(stub);
      testClock.advance(i === 4 ? 0 : 10_000);
    }
    expect(portoneApi.requests).toHaveLength(1);
    testClock.advance(61_000);
    await runDurableObjectAlarm(stub);
    expect(portoneApi.requests).toHaveLength(2);
  });

  it("stops asking when PortOne does not know the payment, and waits an hour before asking for a new hint", async () => {
    const paymentRef = uniqueRef("nopay");
    portoneApi.answer(() =>
      Response.json({ status_code: "4096", status_reason: "INVALID_REFERENCE" }, { status: 400 }),
    );
    const stub = ledgerOf(PAYMENT, paymentRef);
    await post("/webhooks/portone/refund", hint(paymentRef, uniqueRef("rf")));
    await post("/webhooks/portone/refund", hint(paymentRef, uniqueRef("rf")));
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await runDurableObjectAlarm(stub)).toBe(false); // nothing left to ask
    expect(portoneApi.requests).toHaveLength(1);
    const refunds = (await stub.inspect()).refunds;
    expect(refunds.map((r) => r.state)).toEqual(["unconfirmed", "unconfirmed"]);
    expect(refunds[0]?.last_error).toContain(`PortOne does not know payment ${paymentRef}`);
    // A new hint for it is kept, but PortOne is asked again only an hour after it said so.
    await post("/webhooks/portone/refund", hint(paymentRef, uniqueRef("rf")));
    await runDurableObjectAlarm(stub);
    expect(portoneApi.requests).toHaveLength(1);
    testClock.advance(UNKNOWN_PAYMENT_WAIT_MS);
    await runDurableObjectAlarm(stub);
    expect(portoneApi.requests).toHaveLength(2);
    expect(origin.received).toHaveLength(0);
  });

  it("keeps a bounded number of hints per refund and refunds per payment: the rest are refused with 429", async () => {
    const paymentRef = uniqueRef("pay");
    portoneApi.answer(() => Response.json({ refundDetails: [] }));
    const refundId = uniqueRef("rf");
    const statuses = Array.from({ length: CONFIRMATION_LIMITS.hintsPerSubject + 2 }, (_, i) => `S${i}`);
    const answers = [];
    for (const status of statuses)
      answers.push(
        (await post("/webhooks/portone/refund", hint(paymentRef, refundId, { refund_status: status }))).status,
      );
    expect(answers.filter((s) => s === 200)).toHaveLength(CONFIRMATION_LIMITS.hintsPerSubject);
    const refused = await post("/webhooks/portone/refund", hint(paymentRef, refundId, { refund_status: "OTHER" }));
    expect(refused.status).toBe(429);
    expect(await refused.json()).toMatchObject({ error: "refund_hint_limit" });
    expect(await storedRows(paymentRef)).toEqual({ hints: CONFIRMATION_LIMITS.hintsPerSubject, refunds: 1 });
  });
});
