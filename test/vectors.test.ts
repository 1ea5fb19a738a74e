// The spec's test vectors (§2.7), computed with Go's standard library: our canonical form and
// signature must reproduce them byte for byte, and the URLSearchParams variant must be refused.
import { describe, expect, it } from "vitest";
import { hmacKeyFromText } from "../src/lib/hmac";
import { PAYMENT, PAYMENT_LINK, SUBSCRIPTION_LINK } from "../src/providers/portone/kinds";
import { canonicalMessage, verifyPortOne } from "../src/providers/portone/verify";
import { paymentLinkSample, paymentSample, subscriptionLinkSample } from "../fixtures/portone-samples";
import { SECRET } from "./helpers";

const V4_FIELDS = {
  amount: 100.25,
  channel_key: "",
  channel_order_ref: "",
  country_code: "KR",
  currency: "KRW",
  merchant_order_ref: "주문 #1~*",
  method_name: "Card (Visa/Master)",
  order_ref: "2mbbExY77pp8iC0AQ1ucWymnd3c",
  status: "Failed",
};
const V4_CANONICAL =
  "amount=100.25&channel_key=&channel_order_ref=&country_code=KR&currency=KRW&merchant_order_ref=%EC%A3%BC%EB%AC%B8+%231~%2A&method_name=Card+%28Visa%2FMaster%29&order_ref=2mbbExY77pp8iC0AQ1ucWymnd3c&status=Failed";

const keys = async () => [await hmacKeyFromText(SECRET)];
const canonical = (payload: Record<string, unknown>, kind = PAYMENT) => {
  const result = canonicalMessage(payload, kind);
  if (!result.ok) throw new Error(result.error.detail);
  return result.value;
};

describe("PortOne signature vectors", () => {
  it("V1: the payment sample verifies", async () => {
    expect(canonical(paymentSample)).toBe(
      "amount=500&channel_key=PAYLETTER&channel_order_ref=20240926HULUNYGP6MA2&country_code=US&currency=USD&merchant_order_ref=2mbbDi9wX3wAgLUDCnRMbQwkwZm_1&method_name=Payletter+Credit+Card&order_ref=2mbbExY77pp8iC0AQ1ucWymnd3c&status=Success",
    );
    const verdict = await verifyPortOne(JSON.stringify(paymentSample), PAYMENT, await keys());
    expect(verdict.ok).toBe(true);
  });

  it("V2: the payment-link sample verifies, with countryCode signed as country_code", async () => {
    expect(canonical(paymentLinkSample, PAYMENT_LINK)).toBe(
      "amount=500&country_code=JP&currency=JPY&link_ref=2mbaHZ6VVokmHJNtKafVCyIZIxv&merchant_order_ref=1779AA6E40071177&status=Success",
    );
    const verdict = await verifyPortOne(JSON.stringify(paymentLinkSample), PAYMENT_LINK, await keys());
    expect(verdict.ok).toBe(true);
  });

  it("V2: a payment link without countryCode falls back to country_code", async () => {
    const { countryCode, ...rest } = paymentLinkSample;
    const body = JSON.stringify({ ...rest, country_code: countryCode });
    expect((await verifyPortOne(body, PAYMENT_LINK, await keys())).ok).toBe(true);
  });

  it("V3: the subscription-link sample verifies (no amount is signed)", async () => {
    expect(canonical(subscriptionLinkSample, SUBSCRIPTION_LINK)).toBe(
      "currency=VND&merchant_order_ref=Subscription_1727351941734&order_ref=2mbiztAoKWCBpciTKJiqKLjHu7A&status=Active",
    );
    const verdict = await verifyPortOne(JSON.stringify(subscriptionLinkSample), SUBSCRIPTION_LINK, await keys());
    expect(verdict.ok).toBe(true);
    const changedAmount = JSON.stringify({ ...subscriptionLinkSample, collected_amount: 999 });
    expect((await verifyPortOne(changedAmount, SUBSCRIPTION_LINK, await keys())).ok).toBe(true);
  });

  it("V4: ~, *, spaces, parentheses, Hangul and empty fields follow Go", async () => {
    expect(canonical(V4_FIELDS)).toBe(V4_CANONICAL);
    const body = JSON.stringify({ ...V4_FIELDS, signature_hash: "OQYtuzX45kKl8FTUjJaZfwELnAZcUAIulIyukqACQgk=" });
    expect((await verifyPortOne(body, PAYMENT, await keys())).ok).toBe(true);
  });

  it("V4: absent channel_key and channel_order_ref sign as empty strings", async () => {
    const { channel_key: _k, channel_order_ref: _r, ...rest } = V4_FIELDS;
    const body = JSON.stringify({ ...rest, signature_hash: "OQYtuzX45kKl8FTUjJaZfwELnAZcUAIulIyukqACQgk=" });
    expect((await verifyPortOne(body, PAYMENT, await keys())).ok).toBe(true);
  });

  it("V4-neg: the URLSearchParams signature of V4's body is rejected", async () => {
    const body = JSON.stringify({ ...V4_FIELDS, signature_hash: "kNhKkKBj3dwE7lOFT2hBQd8BoYhHh7s0eHbL3vDLUO8=" });
    const verdict = await verifyPortOne(body, PAYMENT, await keys());
    expect(verdict).toMatchObject({ ok: false, error: { reason: "bad_signature" } });
  });

  it("amounts sign by value, not by their JSON spelling: 500.0 and 5e2 sign as 500", async () => {
    const raw = JSON.stringify(paymentSample);
    for (const spelling of ["500.0", "5e2", "5.00E+2"]) {
      const body = raw.replace('"amount":500', `"amount":${spelling}`);
      expect(body).not.toBe(raw);
      expect((await verifyPortOne(body, PAYMENT, await keys())).ok).toBe(true);
    }
  });

  it("any key of a comma-separated rotation list verifies; a wrong key alone does not", async () => {
    const body = JSON.stringify(paymentSample);
    const rotated = [await hmacKeyFromText("OLD_SECRET"), await hmacKeyFromText(SECRET)];
    expect((await verifyPortOne(body, PAYMENT, rotated)).ok).toBe(true);
    const wrong = [await hmacKeyFromText("OLD_SECRET")];
    expect((await verifyPortOne(body, PAYMENT, wrong)).ok).toBe(false);
  });

  it("the secret is used as text bytes, never hex-decoded", async () => {
    const hexLooking = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";
    const mac = new Uint8Array(
      await crypto.subtle.sign(
        "HMAC",
        await crypto.subtle.importKey(
          "raw",
          new TextEncoder().encode(hexLooking),
          { name: "HMAC", hash: "SHA-256" },
          false,
          ["sign"],
        ),
        new TextEncoder().encode(V4_CANONICAL),
      ),
    );
    const signature = btoa(String.fromCharCode(...mac));
    const body = JSON.stringify({ ...V4_FIELDS, signature_hash: signature });
    expect((await verifyPortOne(body, PAYMENT, [await hmacKeyFromText(hexLooking)])).ok).toBe(true);
  });
});
