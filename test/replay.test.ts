// Forward only what is proven (design: "Forward only what is proven"). PortOne signs a few fields
// and sends no timestamp or nonce, so anyone who saw one genuine body can replay it with fields
// added. Such a replay must be the same event (a duplicate), never a new "verified" one, and what
// reaches the origin as `data` must be the signed fields only.
import { runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { sha256Hex } from "../src/lib/hmac";
import { KINDS, deliver, eventFor, ledgerOf, post, resultOf, storedObject, uniqueRef } from "./helpers";
import { envelope, origin } from "./stand-ins";

const PAYMENT = KINDS.payment;

describe("a captured genuine body replayed with unsigned fields added", () => {
  it("is a duplicate: nothing new is stored or reaches the origin", async () => {
    const ref = uniqueRef("replay");
    const genuine = await eventFor("payment", ref, "Pending");
    expect(await resultOf(await deliver("payment", genuine))).toBe("accepted");
    expect(await runDurableObjectAlarm(ledgerOf(PAYMENT, ref))).toBe(true);
    expect(origin.acknowledged).toHaveLength(1);

    const forged = [
      { ...genuine, buyer_email: "attacker@example.com" },
      { ...genuine, metadata: { refund_to_account: "attacker-iban" } },
      { ...genuine, description: "changed", status_code: "2000" },
    ];
    for (const body of forged) expect(await resultOf(await deliver("payment", body))).toBe("duplicate");
    // A duplicate sets no alarm: there is nothing to forward.
    expect(await runDurableObjectAlarm(ledgerOf(PAYMENT, ref))).toBe(false);
    expect(origin.received).toHaveLength(1);
    expect((await storedObject(PAYMENT, ref)).events).toHaveLength(1);
    expect(envelope(origin.received[0]!).data).not.toHaveProperty("buyer_email", "attacker@example.com");
  });

  it("is logged as a conflict with both bodies' hashes, whether the edge hint or the ledger answers", async () => {
    const ref = uniqueRef("conflict");
    const genuine = JSON.stringify(await eventFor("payment", ref, "Pending"));
    const forged = JSON.stringify({ ...JSON.parse(genuine), buyer_email: "attacker@example.com" });
    expect(await resultOf(await post("/webhooks/portone/payment", genuine))).toBe("accepted");
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    expect(await resultOf(await post("/webhooks/portone/payment", forged))).toBe("duplicate");
    const lines = warn.mock.calls.map((c) => JSON.parse(String(c[0])) as Record<string, unknown>);
    expect(lines).toContainEqual(
      expect.objectContaining({
        msg: "webhook duplicate with a different body; the new body is not forwarded",
        object_ref: ref,
        recorded_body_sha256: await sha256Hex(genuine),
        received_body_sha256: await sha256Hex(forged),
      }),
    );
  });

  it("a redelivery of the same bytes is a plain duplicate, logged as no conflict", async () => {
    const ref = uniqueRef("same");
    const genuine = JSON.stringify(await eventFor("payment-link", ref, "Created"));
    expect(await resultOf(await post("/webhooks/portone/payment-link", genuine))).toBe("accepted");
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    expect(await resultOf(await post("/webhooks/portone/payment-link", genuine))).toBe("duplicate");
    expect(warn).not.toHaveBeenCalled();
  });
});

describe("the forwarded envelope", () => {
  it("carries the signed fields as data, the rest as unverified, and source webhook", async () => {
    const ref = uniqueRef("split");
    const payload = await eventFor("payment", ref, "Success");
    await deliver("payment", payload);
    expect(await runDurableObjectAlarm(ledgerOf(PAYMENT, ref))).toBe(true);
    const sent = envelope(origin.acknowledged[0]!);
    expect(sent.source).toBe("webhook");
    expect(Object.keys(sent.data).sort()).toEqual(PAYMENT.signed.map((f) => f.key).sort());
    expect(sent.data).toMatchObject({ order_ref: ref, status: "Success", amount: 500, currency: "USD" });
    expect(sent.unverified).toMatchObject({ buyer_email: "buyer@example.com", method_key: "PAYLETTER_CREDIT_CARD" });
    expect(sent.unverified).not.toHaveProperty("signature_hash");
    expect(sent.unverified).not.toHaveProperty("order_ref");
  });

  it("leaves unverified out when the body holds only signed fields", async () => {
    const ref = uniqueRef("bare");
    const fields = ["amount", "currency", "merchant_order_ref", "order_ref", "status"];
    const full = await eventFor("subscription-link", ref, "Created");
    const bare = await eventFor(
      "subscription-link",
      ref,
      "Created",
      Object.fromEntries(
        Object.keys(full)
          .filter((k) => !fields.includes(k))
          .map((k) => [k, undefined]),
      ),
    );
    const body = JSON.parse(JSON.stringify(bare)) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual([...fields, "signature_hash"].filter((k) => k in body).sort());
    await deliver("subscription-link", body);
    expect(await runDurableObjectAlarm(ledgerOf(KINDS["subscription-link"], ref))).toBe(true);
    const sent = envelope(origin.acknowledged[0]!);
    expect(sent).not.toHaveProperty("unverified");
    expect(sent.data).toEqual(Object.fromEntries(Object.entries(body).filter(([k]) => k !== "signature_hash")));
  });
});
