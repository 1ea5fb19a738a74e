// Destinations (design: "Destinations and origin protection"): MERCHANT_ORIGIN_URL is `default`
// (every type); DESTINATIONS adds named ones with type globs (vitest.config.ts: `erp` takes
// fanout.order.paid and .refunded, `analytics` fanout.*). Each has its own queue per object, its own
// secret and retries; the same event carries the same webhook-id everywhere; one destination's
// failures never hold another's events.
import { createExecutionContext, runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { describe, expect, it, vi } from "vitest";
import { loadConfig } from "../src/config";
import worker from "../src/index";
import { ledgerFor } from "../src/ledger/client";
import { parseDestinations } from "../src/config/destinations";
import { post, referenceHmac, resultOf, uniqueRef } from "./helpers";
import { testEnv } from "./env";
import { envelope, origin, testClock, type Received } from "./stand-ins";

const SECRETS: Record<string, string> = {
  default: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  erp: "whsec_ZXJwLXRlc3Qtc2VjcmV0LTAxMjM0NTY3ODk=",
  analytics: "whsec_YW5hbHl0aWNzLXRlc3Qtc2VjcmV0LTAxMjM=",
};
const nameOf = (r: Received): string => r.url.replace(/^https:\/\/merchant\.test\/webhooks\/?/, "") || "default";

async function send(ref: string, status: string, e: Env = env): Promise<string> {
  const body = JSON.stringify({ id: ref, status });
  const signature = [...(await referenceHmac("fanout-test-secret-0123456789", body))]
    .map((b) => b.toString(16).padStart(2, "0"))
    .join("");
  const response = await worker.fetch(
    new Request("https://gateway.test/webhooks/hmac/fanout", {
      method: "POST",
      body,
      headers: { "x-signature": signature },
    }),
    e,
    createExecutionContext(),
  );
  return resultOf(response);
}

function verifiedBy(r: Received): Record<string, unknown> {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(testClock.now);
  try {
    return new Webhook(SECRETS[nameOf(r)] ?? "").verify(r.body, r.headers) as Record<string, unknown>;
  } finally {
    vi.useRealTimers();
  }
}

const drain = async (ref: string) => {
  while (await runDurableObjectAlarm(ledgerFor(env, "fanout", "order", ref)));
};

describe("destinations", () => {
  it("each gets exactly the types it takes, signed with its own secret, under the same webhook-id", async () => {
    const ref = uniqueRef("fan");
    expect(await send(ref, "created")).toBe("accepted");
    expect(await send(ref, "paid")).toBe("accepted");
    await drain(ref);
    const got = (name: string) => origin.acknowledged.filter((r) => nameOf(r) === name).map((r) => envelope(r).type);
    expect(got("default")).toEqual(["fanout.order.created", "fanout.order.paid"]);
    expect(got("analytics")).toEqual(["fanout.order.created", "fanout.order.paid"]);
    expect(got("erp")).toEqual(["fanout.order.paid"]);
    for (const r of origin.acknowledged) expect(verifiedBy(r)).toMatchObject({ object_ref: ref });
    const paidIds = new Set(
      origin.acknowledged.filter((r) => envelope(r).type.endsWith(".paid")).map((r) => r.headers["webhook-id"]),
    );
    expect(paidIds.size).toBe(1);
    // A destination's secret does not verify another's request.
    const erp = origin.acknowledged.find((r) => nameOf(r) === "erp") as Received;
    expect(() => new Webhook(SECRETS.default ?? "").verify(erp.body, erp.headers)).toThrow();
  });

  it("one destination failing never holds another's events; it retries its own, in order", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const ref = uniqueRef("fan-down");
    origin.answer((request) => new Response(null, { status: request.url.endsWith("/erp") ? 503 : 204 }));
    expect(await send(ref, "paid")).toBe("accepted");
    expect(await send(ref, "refunded")).toBe("accepted");
    await runDurableObjectAlarm(ledgerFor(env, "fanout", "order", ref));
    const byName = (name: string) =>
      origin.acknowledged.filter((r) => nameOf(r) === name).map((r) => envelope(r).status);
    expect(byName("default")).toEqual(["paid", "refunded"]);
    expect(byName("analytics")).toEqual(["paid", "refunded"]);
    expect(byName("erp")).toEqual([]);
    expect(origin.received.filter((r) => nameOf(r) === "erp").map((r) => envelope(r).status)).toEqual(["paid"]);
    origin.answer(() => new Response(null, { status: 204 }));
    testClock.advance(10_000);
    await drain(ref);
    expect(byName("erp")).toEqual(["paid", "refunded"]);
    const report = await ledgerFor(env, "fanout", "order", ref).inspect();
    expect(report.deliveries.filter((d) => d.destination === "erp").map((d) => d.state)).toEqual([
      "delivered",
      "delivered",
    ]);
  });

  it("validates DESTINATIONS once, naming the bad key, and refuses webhooks while it is invalid", async () => {
    expect(
      parseDestinations(
        '{"erp": {"url": "http://erp.example/h", "secret": "whsec_ZXJwLXRlc3Qtc2VjcmV0LTAxMjM0NTY3ODk="}}',
      ),
    ).toMatchObject({
      ok: false,
      error: { key: "DESTINATIONS.erp.url" },
    });
    expect(parseDestinations('{"erp": {"url": "https://erp.example/h", "secret": "whsec_c2hvcnQ="}}')).toMatchObject({
      error: { key: "DESTINATIONS.erp.secret" },
    });
    expect(parseDestinations('{"default": {}}')).toMatchObject({ ok: false });
    const limited = parseDestinations(
      '{"x": {"url": "https://x.example", "secret": "whsec_ZXJwLXRlc3Qtc2VjcmV0LTAxMjM0NTY3ODk=", "maxPerSecond": 20, "maxConcurrency": 4}}',
    );
    expect(limited.ok && limited.value[0]).toMatchObject({ maxPerSecond: 20, maxConcurrency: 4 });
    expect(
      parseDestinations(
        '{"x": {"url": "https://x.example", "secret": "whsec_ZXJwLXRlc3Qtc2VjcmV0LTAxMjM0NTY3ODk=", "maxConcurrency": 0}}',
      ),
    ).toMatchObject({ error: { key: "DESTINATIONS.x.maxConcurrency" } });
    expect(
      parseDestinations(
        '{"x": {"url": "https://x.example", "secret": "whsec_ZXJwLXRlc3Qtc2VjcmV0LTAxMjM0NTY3ODk=", "types": []}}',
      ),
    ).toMatchObject({
      error: { key: "DESTINATIONS.x.types" },
    });
    const broken = testEnv({ DESTINATIONS: "{not json" });
    expect(loadConfig(broken).destinations.ok).toBe(false);
    const error = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const response = await post("/webhooks/portone/payment", "{}", {});
    expect(response.status).not.toBe(503); // the test environment's own DESTINATIONS is valid
    expect(await send(uniqueRef("fan-broken"), "paid", broken)).toBe("error:not_configured");
    expect(String(error.mock.calls.at(-1)?.[0])).toContain("DESTINATIONS");
  });

  it("without named destinations, default takes everything; with only named ones, there is no default", () => {
    const onlyNamed = loadConfig(
      testEnv({ MERCHANT_ORIGIN_URL: undefined, FORWARD_SIGNING_SECRET: undefined }),
    ).destinations;
    expect(onlyNamed.ok && onlyNamed.value.map((d) => d.name)).toEqual(["erp", "limited", "analytics", "picky"]);
    const onlyDefault = loadConfig(testEnv({ DESTINATIONS: undefined })).destinations;
    expect(onlyDefault.ok && onlyDefault.value.map((d) => d.name)).toEqual(["default"]);
  });
});
