// Generic sources beside PortOne: a signed-header HMAC scheme and Standard Webhooks inbound
// (signed here by the independent standardwebhooks library), configured in WEBHOOK_SOURCES and
// then deduplicated, serialized and forwarded exactly like PortOne's events.
import { createExecutionContext, runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { describe, expect, it, vi } from "vitest";
import worker from "../src/index";
import { ledgerFor } from "../src/ledger/client";
import { parseSources } from "../src/providers/sources/parse";
import { describeConfigError } from "../src/lib/config-error";
import { sha256Hex } from "../src/lib/hmac";
import { BASE, eventFor, referenceHmac, resultOf, uniqueRef } from "./helpers";
import { origin, testClock } from "./stand-ins";
import { testEnv } from "./env";

const nowSeconds = () => Math.floor(testClock.now / 1000);

const hmac = referenceHmac;
const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
const b64 = (b: Uint8Array) => btoa(String.fromCharCode(...b));

function post(
  path: string,
  body: string,
  headers: Record<string, string>,
  envOverride: Partial<Env> = {},
): Promise<Response> {
  const request = new Request(`${BASE}${path}`, { method: "POST", body, headers });
  return Promise.resolve(worker.fetch(request, testEnv(envOverride), createExecutionContext()));
}

async function acme(ref: string, status: string, options: { timestamp?: number; secret?: string } = {}) {
  const body = JSON.stringify({ data: { order_id: ref, status }, note: "café" });
  const timestamp = options.timestamp ?? nowSeconds();
  const signature = hex(await hmac(options.secret ?? "acme-test-secret-0123456789", `${timestamp}.${body}`));
  return post("/webhooks/hmac/acme", body, { "x-signature": signature, "x-timestamp": String(timestamp) });
}

/** Signs with the standardwebhooks library at the test clock. */
function standardHeaders(
  id: string,
  body: string,
  secret = "whsec_c2hvcC10ZXN0LXNlY3JldC0wMTIzNDU2Nzg5",
  at = testClock.now,
) {
  const signature = new Webhook(secret).sign(id, new Date(at), body);
  return {
    "webhook-id": id,
    "webhook-timestamp": String(Math.floor(at / 1000)),
    "webhook-signature": `v1,bm9wZQ== ${signature}`,
  };
}

describe("generic HMAC header source", () => {
  it("accepts a correctly signed request, dedupes its redelivery, and follows the configured lifecycle", async () => {
    const ref = uniqueRef("acme");
    expect(await resultOf(await acme(ref, "created"))).toBe("accepted");
    expect(await resultOf(await acme(ref, "captured"))).toBe("accepted");
    expect(await resultOf(await acme(ref, "captured"))).toBe("duplicate");
    expect(await resultOf(await acme(ref, "authorized"))).toBe("stale");
  });

  it("rejects a stale timestamp (the default tolerance is 300 s), a missing one, and a wrong signature", async () => {
    const ref = uniqueRef("acme");
    const stale = await acme(ref, "created", { timestamp: nowSeconds() - 301 });
    expect(stale.status).toBe(401);
    expect(await stale.json()).toMatchObject({ error: "stale_timestamp" });
    expect(await resultOf(await acme(ref, "created", { timestamp: nowSeconds() - 299 }))).toBe("accepted");
    expect((await acme(ref, "created", { timestamp: nowSeconds() + 400 })).status).toBe(401);
    const body = JSON.stringify({ data: { order_id: ref, status: "created" } });
    const noStamp = await post("/webhooks/hmac/acme", body, {
      "x-signature": hex(await hmac("acme-test-secret-0123456789", body)),
    });
    expect(await noStamp.json()).toMatchObject({ error: "missing_timestamp" });
    const wrong = await acme(ref, "voided", { secret: "another-secret-0123456789" });
    expect(await wrong.json()).toMatchObject({ error: "bad_signature" });
  });

  it("supports base64 with a prefix over the raw body, and every secret of a rotation", async () => {
    const body = JSON.stringify({ id: uniqueRef("gh"), state: "opened" });
    for (const secret of ["old-secret-0123456789abcdef", "new-secret-0123456789abcdef"]) {
      const response = await post("/webhooks/hmac/bodyonly", body, {
        "x-hub-signature-256": `sha256=${b64(await hmac(secret, body))}`,
      });
      expect(response.status).toBe(200);
    }
    const bad = await post("/webhooks/hmac/bodyonly", body, {
      "x-hub-signature-256": `sha256=${b64(await hmac("nope-secret-0123456789", body))}`,
    });
    expect(bad.status).toBe(401);
  });

  it("answers 404 for an unknown source, or a source of the other scheme", async () => {
    expect((await post("/webhooks/hmac/nobody", "{}", {})).status).toBe(404);
    expect((await post("/webhooks/hmac/shop", "{}", {})).status).toBe(404);
  });
});

describe("an HMAC source whose timestamp is a field of the signed body", () => {
  const sources = JSON.stringify({
    crypto: {
      scheme: "hmac",
      secret: "crypto-gateway-secret-0123",
      signatureHeader: "x-signature",
      message: "body",
      timestampPath: "timestamp",
      objectRef: "data.id",
      status: "event",
    },
  });
  const send = async (fields: Record<string, unknown>) => {
    const body = JSON.stringify({ event: "payment.confirmed", data: { id: uniqueRef("cg") }, ...fields });
    const signature = hex(await hmac("crypto-gateway-secret-0123", body));
    return post("/webhooks/hmac/crypto", body, { "x-signature": signature }, { WEBHOOK_SOURCES: sources });
  };

  it("accepts one whose signed timestamp is within the tolerance", async () => {
    expect(await resultOf(await send({ timestamp: nowSeconds() - 10 }))).toBe("accepted");
  });

  it("rejects a stale or a missing timestamp (a body-only signature has no other replay window)", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => undefined);
    expect(await (await send({ timestamp: nowSeconds() - 301 })).json()).toMatchObject({ error: "stale_timestamp" });
    expect(await (await send({ timestamp: nowSeconds() + 400 })).json()).toMatchObject({ error: "stale_timestamp" });
    expect(await (await send({})).json()).toMatchObject({ error: "missing_timestamp" });
    expect(await (await send({ timestamp: "soon" })).json()).toMatchObject({ error: "missing_timestamp" });
  });
});

describe("Standard Webhooks source", () => {
  it("accepts an event signed by the standardwebhooks library and forwards it like any other", async () => {
    const ref = uniqueRef("order");
    const body = JSON.stringify({ type: "order.paid", data: { id: ref, amount: 1200 } });
    const response = await post("/webhooks/standard/shop", body, standardHeaders("msg_1", body));
    expect(await resultOf(response)).toBe("accepted");
    expect(await runDurableObjectAlarm(ledgerFor(env, "shop", "order", ref))).toBe(true);
    const forwarded = JSON.parse(origin.acknowledged[0]?.body ?? "{}") as Record<string, unknown>;
    expect(forwarded).toMatchObject({
      type: "shop.order.order.paid",
      provider: "shop",
      kind: "order",
      object_ref: ref,
      status: "order.paid",
    });
  });

  it("uses webhook-id as the idempotency key", async () => {
    const ref = uniqueRef("order");
    const body = JSON.stringify({ type: "order.paid", data: { id: ref } });
    const id = `msg_${ref}`;
    expect(await resultOf(await post("/webhooks/standard/shop", body, standardHeaders(id, body)))).toBe("accepted");
    testClock.advance(10_000);
    expect(await resultOf(await post("/webhooks/standard/shop", body, standardHeaders(id, body)))).toBe("duplicate");
    expect(await resultOf(await post("/webhooks/standard/shop", body, standardHeaders(`${id}_2`, body)))).toBe(
      "accepted",
    );
  });

  it("a webhook-id reused with another body is a duplicate, never forwarded, and logged as a conflict", async () => {
    const ref = uniqueRef("order");
    const body = JSON.stringify({ type: "order.paid", data: { id: ref } });
    const other = JSON.stringify({ type: "order.paid", data: { id: ref, amount: 1 } });
    const id = `msg_${ref}`;
    expect(await resultOf(await post("/webhooks/standard/shop", body, standardHeaders(id, body)))).toBe("accepted");
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    expect(await resultOf(await post("/webhooks/standard/shop", other, standardHeaders(id, other)))).toBe("duplicate");
    const conflict = warn.mock.calls
      .map((c) => JSON.parse(String(c[0])) as Record<string, unknown>)
      .find((l) => l.msg === "webhook duplicate with a different body; the new body is not forwarded");
    expect(conflict).toMatchObject({
      recorded_body_sha256: await sha256Hex(body),
      received_body_sha256: await sha256Hex(other),
    });
    expect(await runDurableObjectAlarm(ledgerFor(env, "shop", "order", ref))).toBe(true);
    expect(origin.received.map((r) => JSON.parse(r.body) as { data: unknown })).toEqual([
      expect.objectContaining({ data: JSON.parse(body) as unknown }),
    ]);
  });

  it("rejects a timestamp outside the tolerance and a signature from another secret", async () => {
    const body = JSON.stringify({ type: "order.paid", data: { id: uniqueRef("order") } });
    const old = await post(
      "/webhooks/standard/shop",
      body,
      standardHeaders("msg_old", body, undefined, testClock.now - 301_000),
    );
    expect(await old.json()).toMatchObject({ error: "stale_timestamp" });
    const other = await post(
      "/webhooks/standard/shop",
      body,
      standardHeaders("msg_x", body, `whsec_${btoa("another secret of 24 bytes")}`),
    );
    expect(await other.json()).toMatchObject({ error: "bad_signature" });
    const tampered = standardHeaders("msg_t", body);
    expect((await post("/webhooks/standard/shop", body.replace("paid", "void"), tampered)).status).toBe(401);
  });
});

describe("WEBHOOK_SOURCES validation", () => {
  it.each([
    [
      {
        s: {
          scheme: "hmac",
          secret: "x".repeat(16),
          timestampHeader: "t",
          objectRef: "id",
          status: "s",
          toleranceSeconds: 0,
        },
      },
      "WEBHOOK_SOURCES.s: toleranceSeconds",
    ],
    [
      { s: { scheme: "hmac", secret: "x".repeat(16), objectRef: "id", status: "s" } },
      "WEBHOOK_SOURCES.s: timestampHeader",
    ],
    [{ s: { scheme: "ftp", secret: "x".repeat(16), objectRef: "id", status: "s" } }, "WEBHOOK_SOURCES.s: scheme"],
    [
      { s: { scheme: "standard", secret: "plain-secret-not-whsec", objectRef: "id", status: "s" } },
      "WEBHOOK_SOURCES.s: secret",
    ],
    [
      { s: { scheme: "standard", secret: "whsec_c2hvcC10ZXN0LXNlY3JldC0wMTIzNDU2Nzg5", status: "s" } },
      "WEBHOOK_SOURCES.s: objectRef",
    ],
    [{ portone: { scheme: "standard" } }, "WEBHOOK_SOURCES.portone: a source name"],
    [
      // whsec_ + base64 of 8 bytes: every webhook would fail its signature check.
      { s: { scheme: "standard", secret: `whsec_${btoa("8 bytes!")}`, objectRef: "id", status: "s" } },
      "WEBHOOK_SOURCES.s: secret",
    ],
    [
      {
        s: {
          scheme: "hmac",
          secret: "x".repeat(16),
          message: "body",
          timestampHeader: "t",
          objectRef: "id",
          status: "s",
        },
      },
      "WEBHOOK_SOURCES.s: timestampHeader",
    ],
    [
      {
        s: {
          scheme: "hmac",
          secret: "x".repeat(16),
          timestampHeader: "t",
          timestampPath: "ts",
          objectRef: "id",
          status: "s",
        },
      },
      "WEBHOOK_SOURCES.s: timestampPath",
    ],
  ])("names the bad key: %j", (config, message) => {
    const parsed = parseSources(JSON.stringify(config));
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(describeConfigError(parsed.error).startsWith(message)).toBe(true);
  });

  it("an invalid configuration fails closed with 503 on the generic routes only", async () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    const response = await post("/webhooks/standard/shop", "{}", {}, { WEBHOOK_SOURCES: "{not json" });
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ error: "not_configured" });
    const portone = await post(
      "/webhooks/portone/payment",
      JSON.stringify(await eventFor("payment", uniqueRef("pay"), "Success")),
      {},
      { WEBHOOK_SOURCES: "{not json" },
    );
    expect(await resultOf(portone)).toBe("accepted");
  });

  it("a standard source whose secret is too short fails closed, and the log names the key", async () => {
    const error = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const short = JSON.stringify({
      weak: { scheme: "standard", secret: `whsec_${btoa("8 bytes!")}`, objectRef: "data.id", status: "type" },
    });
    const response = await post("/webhooks/standard/weak", "{}", {}, { WEBHOOK_SOURCES: short });
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ error: "not_configured" });
    expect(String(error.mock.calls[0]?.[0])).toContain("WEBHOOK_SOURCES.weak: secret");
  });
});
