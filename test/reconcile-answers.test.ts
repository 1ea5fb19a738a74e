// What reconciliation may learn from PortOne's API, held to the contract ("Reconciliation and
// retention") against a stand-in with documented shapes: a subscription's charges belong to the
// subscription's object, the last charge is read as the subscription leaves Active, a charge the
// payment list names is never a payment of its own, and an answer about another reference or with
// a status outside the kind's lifecycle is unknown.
import { beforeEach, describe, expect, it, vi } from "vitest";
import { KINDS, ledgerCount, ledgerOf, uniqueRef } from "./helpers";
import { testEnv } from "./env";
import { testClock } from "./stand-ins";
import { fakePortOne, installFakePortOne, paymentContent } from "./portone-stand-in";
import { drain, forwarded, pass, SILENT, webhook } from "./reconcile-helpers";

function charge(subscription: string, n: number, status = "Success") {
  return {
    order_ref: `${subscription}_${n}`,
    merchant_order_ref: `S_${n}`,
    amount: 103,
    currency: "VND",
    status,
    created_at: "2026-11-01T00:00:00Z",
  };
}

beforeEach(() => {
  installFakePortOne();
  vi.spyOn(console, "warn").mockImplementation(() => undefined);
});

describe("subscription charges", () => {
  it("the charge that completes the subscription is read as it leaves Active, and forwarded once", async () => {
    const ref = uniqueRef("sub-last");
    fakePortOne.subscriptions.set(ref, { status: "Active", currency: "VND" });
    fakePortOne.charges.set(ref, [charge(ref, 0)]);
    expect(await webhook("subscription-link", ref, "Active")).toBe("accepted");
    fakePortOne.charges.set(ref, [charge(ref, 0), charge(ref, 1)]);
    fakePortOne.subscriptions.set(ref, { status: "Completed", currency: "VND" });
    testClock.advance(SILENT);
    await pass();
    await drain("subscription-link", ref);
    const sent = forwarded().filter((e) => e.object_ref === ref);
    expect(sent.map((e) => [e.type, e.data.order_ref ?? null])).toEqual([
      ["portone.subscription_link.active", ref],
      ["portone.subscription_charge.success", `${ref}_0`],
      ["portone.subscription_link.completed", ref],
      ["portone.subscription_charge.success", `${ref}_1`],
    ]);
  });

  it("a Completed webhook after Active has the charges read once more", async () => {
    const ref = uniqueRef("sub-webhook");
    fakePortOne.charges.set(ref, [charge(ref, 0)]);
    expect(await webhook("subscription-link", ref, "Active")).toBe("accepted");
    fakePortOne.charges.set(ref, [charge(ref, 0), charge(ref, 1)]);
    expect(await webhook("subscription-link", ref, "Completed")).toBe("accepted");
    const charges = forwarded().filter((e) => e.kind === "subscription_charge" && e.object_ref === ref);
    expect(charges.map((e) => e.data.order_ref)).toEqual([`${ref}_0`, `${ref}_1`]);
  });

  it("with PORTONE_ENVIRONMENT a listed charge goes to its subscription, once, never to a payment object", async () => {
    const ref = uniqueRef("sub-sweep");
    fakePortOne.charges.set(ref, [charge(ref, 0)]);
    expect(await webhook("subscription-link", ref, "Active")).toBe("accepted");
    fakePortOne.listed = [{ ...paymentContent(`${ref}_0`, "Success", 103), subscription_order_ref: ref }];
    const objects = await ledgerCount();
    testClock.advance(5 * 60_000);
    await pass(testEnv({ PORTONE_ENVIRONMENT: "sandbox" }));
    await drain("subscription-link", ref);
    expect(await ledgerCount()).toBe(objects); // no payment object was made for the charge
    const sent = forwarded().filter((e) => e.data.order_ref === `${ref}_0` || e.object_ref === `${ref}_0`);
    expect(sent.map((e) => [e.type, e.object_ref])).toEqual([["portone.subscription_charge.success", ref]]);
  });

  it("each charge has its own lifecycle: one charge's Success does not make the next one stale", async () => {
    const ref = uniqueRef("sub-own");
    fakePortOne.subscriptions.set(ref, { status: "Active", currency: "VND" });
    fakePortOne.charges.set(ref, [charge(ref, 0, "Pending")]);
    expect(await webhook("subscription-link", ref, "Active")).toBe("accepted");
    fakePortOne.charges.set(ref, [charge(ref, 0, "Success"), charge(ref, 1, "Pending"), charge(ref, 0, "Pending")]);
    testClock.advance(SILENT);
    await pass();
    await drain("subscription-link", ref);
    const charges = forwarded().filter((e) => e.kind === "subscription_charge" && e.object_ref === ref);
    expect(charges.map((e) => [e.data.order_ref, e.status, e.previous_status])).toEqual([
      [`${ref}_0`, "Pending", null],
      [`${ref}_0`, "Success", "Pending"],
      [`${ref}_1`, "Pending", null],
    ]);
  });
});

describe("answers that are unknown", () => {
  it("transaction-details about another order_ref is not this payment's status", async () => {
    const ref = uniqueRef("other-ref");
    expect(await webhook("payment", ref, "Pending")).toBe("accepted");
    fakePortOne.payments.set(ref, paymentContent(uniqueRef("someone-else"), "Success", 999));
    testClock.advance(SILENT);
    expect(await pass()).toMatchObject({ changed: 0 });
    await drain("payment", ref);
    expect(
      forwarded()
        .filter((e) => e.object_ref === ref)
        .map((e) => e.status),
    ).toEqual(["Pending"]);
    expect((await ledgerOf(KINDS.payment, ref).inspect()).events).toHaveLength(1);
  });

  it('a status outside the lifecycle ("Success ") is not recorded; the genuine Success webhook then is', async () => {
    const ref = uniqueRef("odd-status");
    expect(await webhook("payment", ref, "Pending")).toBe("accepted");
    fakePortOne.payments.set(ref, paymentContent(ref, "Success "));
    testClock.advance(SILENT);
    expect(await pass()).toMatchObject({ changed: 0 });
    expect(await webhook("payment", ref, "Success")).toBe("accepted");
    const sent = forwarded().filter((e) => e.object_ref === ref);
    expect(sent.map((e) => e.type)).toEqual(["portone.payment.pending", "portone.payment.success"]);
  });

  it("a payment link's fetch-status about another link, and a charge outside the lifecycle, are not recorded", async () => {
    const link = uniqueRef("other-link");
    expect(await webhook("payment-link", link, "Created")).toBe("accepted");
    fakePortOne.links.set(link, { paymentLinkRef: uniqueRef("else"), status: "Success", transactionsList: [] });
    const sub = uniqueRef("odd-charge");
    fakePortOne.charges.set(sub, [charge(sub, 0, "Paid!")]);
    expect(await webhook("subscription-link", sub, "Active")).toBe("accepted");
    testClock.advance(SILENT);
    await pass();
    await drain("payment-link", link);
    await drain("subscription-link", sub);
    expect(
      forwarded()
        .filter((e) => e.object_ref === link)
        .map((e) => e.status),
    ).toEqual(["Created"]);
    expect(
      forwarded()
        .filter((e) => e.object_ref === sub)
        .map((e) => e.kind),
    ).toEqual(["subscription_link"]);
  });
});
