// Work that arrives while an alarm run is awaiting the outside world (the origin, PortOne's API)
// must never be erased by that run's end: the run reads when it is next due from storage after
// its last await. Regression: a refund hint posted while its payment's forward was in flight was
// answered 200 and then never confirmed, because the run ended with deleteAlarm().
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { refundSample } from "../fixtures/portone-samples";
import { KINDS, deliver, eventFor, ledgerOf, post, resultOf, uniqueRef } from "./helpers";
import { envelope, holdingOrigin, origin, portoneApi } from "./stand-ins";

const PAYMENT = KINDS.payment;

const alarmOf = (ref: string) => runInDurableObject(ledgerOf(PAYMENT, ref), (_i, state) => state.storage.getAlarm());

describe("work arriving while a run awaits the origin", () => {
  it("a refund hint is confirmed with the API and forwarded", async () => {
    const [ref, refundId] = [uniqueRef("race-pay"), uniqueRef("race-rf")];
    portoneApi.answer(() =>
      Response.json({ content: { refundDetails: [{ refund_id: refundId, refund_status: "SUCCESS", amount: 500 }] } }),
    );
    expect(await resultOf(await deliver("payment", await eventFor("payment", ref, "Success")))).toBe("accepted");
    const slow = holdingOrigin();
    const run = runDurableObjectAlarm(ledgerOf(PAYMENT, ref));
    await slow.inFlight;
    const hint = { ...refundSample, payment_txn_ref: ref, refund_id: refundId };
    expect(await resultOf(await post("/webhooks/portone/refund", hint))).toBe("accepted");
    slow.release();
    expect(await run).toBe(true);

    expect(await alarmOf(ref)).not.toBeNull();
    origin.answer(() => new Response(null, { status: 204 }));
    expect(await runDurableObjectAlarm(ledgerOf(PAYMENT, ref))).toBe(true);
    expect(portoneApi.requests).toHaveLength(1);
    expect(origin.acknowledged.map((r) => envelope(r).type)).toEqual([
      "portone.payment.success",
      "portone.refund.success",
    ]);
    expect(await alarmOf(ref)).toBeNull();
  });

  it("a new event of the object is forwarded, in order", async () => {
    const ref = uniqueRef("race-evt");
    expect(await resultOf(await deliver("payment", await eventFor("payment", ref, "Pending")))).toBe("accepted");
    const slow = holdingOrigin();
    const run = runDurableObjectAlarm(ledgerOf(PAYMENT, ref));
    await slow.inFlight;
    expect(await resultOf(await deliver("payment", await eventFor("payment", ref, "Success")))).toBe("accepted");
    slow.release();
    expect(await run).toBe(true);
    // Whether that run took the new event too or left it for the next, an alarm covers what is left.
    while ((await alarmOf(ref)) !== null) await runDurableObjectAlarm(ledgerOf(PAYMENT, ref));
    expect(origin.acknowledged.map((r) => envelope(r).status)).toEqual(["Pending", "Success"]);
  });
});

describe("an attempt of a run that fails mid-attempt", () => {
  it("is closed as interrupted by that same run, not left in flight", async () => {
    const ref = uniqueRef("midfail");
    expect(await resultOf(await deliver("payment", await eventFor("payment", ref, "Pending")))).toBe("accepted");
    const stub = ledgerOf(PAYMENT, ref);
    // A real fault inside the attempt: the stored event no longer reads as JSON.
    await runInDurableObject(stub, (_i, state) => state.storage.sql.exec("UPDATE events SET data = 'not json'"));
    const silenced = { error: console.error };
    console.error = () => undefined;
    try {
      await expect(runDurableObjectAlarm(stub)).rejects.toThrow();
    } finally {
      console.error = silenced.error;
    }
    const outcomes = (await stub.inspect()).attempts.map((a) => a.outcome);
    expect(outcomes).toEqual(["interrupted"]);
    expect(origin.received).toHaveLength(0);
  });
});
