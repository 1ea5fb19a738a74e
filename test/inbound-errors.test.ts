// Every bad input in the contract gets its status and a JSON error, and leaves no trace: nothing
// in KV, no Durable Object created.
import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import { MAX_DISCARD_BYTES } from "../src/lib/limits";
import { paymentLinkSample, paymentSample } from "../fixtures/portone-samples";
import { BASE, deliver, kvKeyCount, ledgerCount, post, signedPayload } from "./helpers";

/** What each error's message must tell the sender, in words of its own (not the code's table). */
const SAYS: Record<string, RegExp> = {
  case_variant_field: /differs from a signed field only in letter case/,
  invalid_field_type: /signed field has the wrong JSON type/,
  unknown_kind: /payment, payment-link, subscription-link/,
  bad_signature: /signature does not match.*secret/,
  missing_signature: /signature is missing/,
  not_found: /^No route for POST \/[a-z/]+\.$/,
  invalid_json: /not valid JSON/,
  not_an_object: /must be a JSON object/,
  too_deep: /nested too deeply/,
  duplicate_field: /signed field appears more than once/,
  missing_object_ref: /names no payment object/,
  missing_status: /has no status/,
  method_not_allowed: /delivered with POST, not [A-Z]+/,
  payload_too_large: /larger than 65536 bytes/,
};

async function expectError(response: Response, status: number, error: string): Promise<void> {
  expect(response.status).toBe(status);
  expect(response.headers.get("content-type")).toMatch(/^application\/json/);
  const body = await response.json<{ error: string; message: string }>();
  expect(body.error).toBe(error);
  expect(body.message).toMatch(SAYS[error] ?? /^$/);
}

/** Runs `send` and checks that it neither created a Durable Object nor wrote KV. */
async function leavesNoTrace(send: () => Promise<void>): Promise<void> {
  const [ledgers, keys] = [await ledgerCount(), await kvKeyCount()];
  await send();
  expect(await ledgerCount()).toBe(ledgers);
  expect(await kvKeyCount()).toBe(keys);
}

describe("inbound webhooks refuse what they cannot prove genuine", () => {
  it.each(["GET", "PUT", "DELETE", "PATCH"])("answers %s with 405 and Allow: POST", async (method) => {
    const response = await post("/webhooks/portone/payment", "", { method, body: method === "GET" ? null : "{}" });
    expect(response.headers.get("allow")).toBe("POST");
    await expectError(response, 405, "method_not_allowed");
  });

  it("answers an unknown kind with 400", async () => {
    await leavesNoTrace(async () => {
      await expectError(await post("/webhooks/portone/payout", await signedPayload("payment")), 400, "unknown_kind");
    });
  });

  it("answers 413 for a declared length over 64 KiB", async () => {
    await leavesNoTrace(async () => {
      const response = await post("/webhooks/portone/payment", "{}", {
        headers: { "content-length": String(64 * 1024 + 1) },
      });
      await expectError(response, 413, "payload_too_large");
    });
  });

  it("answers 413 while reading a streamed body with no length, without reading it to the end", async () => {
    let pulled = 0;
    const chunk = new TextEncoder().encode(" ".repeat(16 * 1024));
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += 1;
        if (pulled > 512)
          controller.close(); // 8 MiB if the limits were ignored
        else controller.enqueue(chunk);
      },
    });
    const request = new Request(`${BASE}/webhooks/portone/payment`, { method: "POST", body: endless });
    expect(request.headers.get("content-length")).toBeNull();
    await expectError(await worker.fetch(request, env, createExecutionContext()), 413, "payload_too_large");
    // 64 KiB kept, then at most MAX_DISCARD_BYTES read and dropped: never the whole 8 MiB.
    expect(pulled).toBeLessThanOrEqual((64 * 1024 + MAX_DISCARD_BYTES) / chunk.byteLength + 2);
  });

  /** A genuine payment body padded with whitespace to exactly `size` bytes. */
  async function paddedTo(size: number): Promise<string> {
    const payload = JSON.stringify(await signedPayload("payment", { order_ref: `pad_${crypto.randomUUID()}` }));
    const bytes = new TextEncoder().encode(payload).byteLength;
    const padded = `${payload.slice(0, -1)}${" ".repeat(size - bytes)}}`;
    expect(new TextEncoder().encode(padded).byteLength).toBe(size);
    return padded;
  }

  it("accepts a body of exactly 64 KiB (the limit is inclusive)", async () => {
    expect((await post("/webhooks/portone/payment", await paddedTo(64 * 1024))).status).toBe(200);
  });

  it("answers 413 for a genuine body of 64 KiB + 1 byte", async () => {
    const body = await paddedTo(64 * 1024 + 1);
    await leavesNoTrace(async () => {
      await expectError(await post("/webhooks/portone/payment", body), 413, "payload_too_large");
    });
  });

  it.each([
    ["not JSON", "{not json", "invalid_json"],
    ["empty", "", "invalid_json"],
    ["an array", "[1,2]", "not_an_object"],
    ["a string", '"hello"', "not_an_object"],
    ["null", "null", "not_an_object"],
    ["nested 40 deep", `{"a":${"[".repeat(40)}${"]".repeat(40)}}`, "too_deep"],
  ])("answers 400 for a body that is %s", async (_name, body, error) => {
    await leavesNoTrace(async () => {
      await expectError(await post("/webhooks/portone/payment", body), 400, error);
    });
  });

  it.each([
    ["amount as a string", { amount: "500" }],
    ["amount as a boolean", { amount: true }],
    ["status as a number", { status: 1 }],
    ["order_ref as an object", { order_ref: { id: "x" } }],
    ["method_name as an array", { method_name: ["Card"] }],
  ])("answers 400 for a signed field of the wrong type: %s", async (_name, override) => {
    await leavesNoTrace(async () => {
      await expectError(await deliver("payment", { ...paymentSample, ...override }), 400, "invalid_field_type");
    });
  });

  it("answers 400 for an amount beyond a double (Go's decoder refuses it too)", async () => {
    const body = JSON.stringify(paymentSample).replace('"amount":500', '"amount":1e400');
    await expectError(await post("/webhooks/portone/payment", body), 400, "invalid_field_type");
  });

  it("answers 400 when a signed field appears twice, even with the same value", async () => {
    const raw = JSON.stringify(paymentSample);
    await leavesNoTrace(async () => {
      await expectError(
        await post("/webhooks/portone/payment", raw.replace("{", '{"status":"Failed",')),
        400,
        "duplicate_field",
      );
      await expectError(
        await post("/webhooks/portone/payment", raw.replace("{", '{"status":"Success",')),
        400,
        "duplicate_field",
      );
      // Escaped spelling of the same key is the same key.
      await expectError(
        await post("/webhooks/portone/payment", raw.replace("{", '{"st\\u0061tus":"Failed",')),
        400,
        "duplicate_field",
      );
    });
  });

  it("answers 400 when a field differs from a signed field only in letter case (Go would read it)", async () => {
    await leavesNoTrace(async () => {
      await expectError(await deliver("payment", { ...paymentSample, Status: "Failed" }), 400, "case_variant_field");
      await expectError(
        await deliver("payment-link", { ...paymentLinkSample, CountryCode: "KR" }),
        400,
        "case_variant_field",
      );
      await expectError(await deliver("payment", { ...paymentSample, SIGNATURE_HASH: "x" }), 400, "case_variant_field");
    });
  });

  it("allows duplicate or case-variant unsigned fields (the parsed object is what is forwarded)", async () => {
    const raw = JSON.stringify(await signedPayload("payment", { order_ref: `dup_${crypto.randomUUID()}` }));
    const response = await post("/webhooks/portone/payment", raw.replace("{", '{"buyer_name":"A","Buyer_Name":"B",'));
    expect(response.status).toBe(200);
  });

  it("answers 401 when signature_hash is missing or empty", async () => {
    const { signature_hash: _s, ...unsigned } = paymentSample;
    await leavesNoTrace(async () => {
      await expectError(await deliver("payment", unsigned), 401, "missing_signature");
      await expectError(await deliver("payment", { ...paymentSample, signature_hash: "" }), 401, "missing_signature");
      await expectError(await deliver("payment", { ...paymentSample, signature_hash: null }), 401, "missing_signature");
    });
  });

  it("answers 401 when signature_hash is wrong, altered, or computed over other fields", async () => {
    await leavesNoTrace(async () => {
      await expectError(await deliver("payment", { ...paymentSample, amount: 501 }), 401, "bad_signature");
      await expectError(await deliver("payment", { ...paymentSample, status: "Failed" }), 401, "bad_signature");
      const flipped = (paymentSample.signature_hash as string).replace("s1", "S1");
      await expectError(await deliver("payment", { ...paymentSample, signature_hash: flipped }), 401, "bad_signature");
      await expectError(await deliver("payment", { ...paymentSample, signature_hash: "short" }), 401, "bad_signature");
      // A genuine payment-link signature does not verify on the payment route.
      await expectError(await deliver("payment", paymentLinkSample), 401, "bad_signature");
    });
  });

  it("answers 400 for a genuine payload that names no object", async () => {
    await leavesNoTrace(async () => {
      await expectError(
        await deliver("payment", await signedPayload("payment", { order_ref: "" })),
        400,
        "missing_object_ref",
      );
      await expectError(
        await deliver("payment", await signedPayload("payment", { status: null })),
        400,
        "missing_status",
      );
    });
  });

  it("answers unknown paths with a JSON 404", async () => {
    await expectError(await post("/nope", "{}"), 404, "not_found");
    await expectError(await post("/webhooks/portone/payment/extra", "{}"), 404, "not_found");
    await expectError(await post("/webhooks/elsewhere", "{}"), 404, "not_found");
  });
});
