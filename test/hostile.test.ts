// Hostile input: whatever arrives, the verifier returns a typed result and the HTTP layer answers a
// clear 2xx/4xx, never a 5xx, never a crash, and stores nothing it could not prove genuine.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { hmacKeyFromText } from "../src/lib/hmac";
import { PAYMENT, PAYMENT_LINK } from "../src/providers/portone/kinds";
import { withSignature } from "../src/providers/portone/sign";
import { verifyPortOne } from "../src/providers/portone/verify";
import { paymentSample } from "../fixtures/portone-samples";
import { SECRET, post, uniqueRef } from "./helpers";

const SIGNED_FIELDS = [
  "amount",
  "channel_key",
  "channel_order_ref",
  "country_code",
  "currency",
  "merchant_order_ref",
  "method_name",
  "order_ref",
  "status",
];

/** Bodies an attacker or a broken sender might send. */
const hostileBody = fc.oneof(
  fc.string({ unit: "binary", maxLength: 300 }),
  fc.json({ maxDepth: 4 }),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  fc.integer({ min: 1, max: 5000 }).map((n) => `${"[".repeat(n)}${"]".repeat(n)}`),
  fc.integer({ min: 1, max: 3000 }).map((n) => `{"a":${'{"a":'.repeat(n)}1${"}".repeat(n)}}`),
  fc.constantFrom(
    "1e400",
    "-1e400",
    "5e-324",
    '"\u0000"',
    '{"amount":1e999}',
    '{"\\ud800":"\\udfff"}',
    "\u0000",
    "{\u0000}",
  ),
  fc
    .record({
      key: fc.constantFrom(
        "__proto__",
        "constructor",
        "prototype",
        "Status",
        "STATUS",
        "status",
        "signature_hash",
        "Amount",
      ),
      value: fc.jsonValue({ maxDepth: 2 }),
    })
    .map(({ key, value }) => {
      const raw = JSON.stringify(paymentSample);
      return raw.replace("{", `{${JSON.stringify(key)}:${JSON.stringify(value)},`);
    }),
  fc
    .record({ field: fc.constantFrom(...SIGNED_FIELDS), value: fc.jsonValue({ maxDepth: 2 }) })
    .map(({ field, value }) => JSON.stringify({ ...paymentSample, [field]: value })),
  fc.constantFrom(64 * 1024 - 1, 64 * 1024, 64 * 1024 + 1).map((n) => `{"pad":"${"x".repeat(n - 10)}"}`),
);

describe("hostile input", () => {
  it("the verifier never throws; it returns a typed result", async () => {
    const keys = [await hmacKeyFromText(SECRET)];
    await fc.assert(
      fc.asyncProperty(hostileBody, fc.constantFrom(PAYMENT, PAYMENT_LINK), async (body, kind) => {
        const verdict = await verifyPortOne(body, kind, keys);
        expect(typeof verdict.ok).toBe("boolean");
      }),
      { numRuns: 400 },
    );
  });

  it("the HTTP layer never answers 5xx, and answers 200 only to what verifies", async () => {
    const keys = [await hmacKeyFromText(SECRET)];
    const kinds = { payment: PAYMENT, "payment-link": PAYMENT_LINK } as const;
    await fc.assert(
      fc.asyncProperty(hostileBody, fc.constantFrom("payment", "payment-link", "refund"), async (body, route) => {
        const response = await post(`/webhooks/portone/${route}`, body);
        const status = response.status;
        await response.body?.cancel();
        expect(status).toBeLessThan(500);
        if (route === "refund") return;
        const genuine = (await verifyPortOne(body, kinds[route], keys)).ok;
        const tooLarge = new TextEncoder().encode(body).byteLength > 64 * 1024;
        if (tooLarge) expect(status).toBe(413);
        else if (genuine) expect(status).toBe(200);
        else expect([400, 401]).toContain(status);
      }),
      { numRuns: 250 },
    );
  });

  it("any genuine payload with arbitrary field values (Unicode, NUL, lone surrogates, any double) is accepted", async () => {
    const text = fc.string({ unit: "binary", maxLength: 40 });
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          merchant_order_ref: text,
          method_name: text,
          channel_order_ref: text,
          // -0 is left out only because JSON.stringify writes it as 0 (Go would write -0).
          amount: fc.double({ noNaN: true, noDefaultInfinity: true }).filter((x) => !Object.is(x, -0)),
          status: fc.constantFrom("Pending", "Success", "Failed", "Processing…", "주문"),
          extra: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
        }),
        async ({ extra, ...fields }) => {
          const clean = Object.fromEntries(
            Object.entries(extra).filter(
              ([k]) => !SIGNED_FIELDS.includes(k.toLowerCase()) && k.toLowerCase() !== "signature_hash",
            ),
          );
          const payload = await withSignature(
            { ...clean, ...paymentSample, ...fields, order_ref: uniqueRef("fc") },
            PAYMENT,
            SECRET,
          );
          const response = await post("/webhooks/portone/payment", payload);
          expect(response.status).toBe(200);
          expect(await response.json()).toEqual({ result: "accepted" });
        },
      ),
      { numRuns: 60 },
    );
  });
});
