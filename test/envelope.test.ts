// The forwarded request: the contract's envelope and Standard Webhooks signature (checked by the
// independent standardwebhooks library), and what one attempt does with a slow or misconfigured origin.
import { describe, expect, it } from "vitest";
import { send, signedRequest, targetFor, type ForwardEvent } from "../src/egress/deliver";
import { deliver, eventFor, resultOf, uniqueRef } from "./helpers";
import { envelope, ORIGIN_URL, origin, testClock, type Received } from "./stand-ins";
import { loadConfig } from "../src/config";
import { testEnv, type EnvOverrides } from "./env";

/** The default destination's target under these variables (its configuration, once). */
const forwardTarget = (overrides: EnvOverrides) => targetFor(loadConfig(testEnv(overrides)), "default");
import { FORWARD_SECRET, accept, after, verifyAtClock } from "./delivery-helpers";

describe("the forwarded request", () => {
  it("is the contract's envelope, signed so that the standardwebhooks library verifies it", async () => {
    const ref = uniqueRef("fmt");
    const payload = await eventFor("payment-link", ref, "Success");
    await deliver("payment-link", payload);
    await after(0, ref);
    expect(origin.acknowledged).toHaveLength(1);
    const [request] = origin.acknowledged as [Received];
    expect(request.url).toBe(ORIGIN_URL);
    expect(request.headers["content-type"]).toBe("application/json");
    const verified = verifyAtClock(request);
    const signed = ["amount", "countryCode", "currency", "link_ref", "merchant_order_ref", "status"];
    const { signature_hash: _signature, ...body } = payload;
    expect(verified).toEqual({
      id: request.headers["webhook-id"],
      type: "portone.payment_link.success",
      provider: "portone",
      kind: "payment_link",
      object_ref: ref,
      status: "Success",
      previous_status: null,
      received_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/) as unknown,
      source: "webhook",
      // Only what the signature covers is data (spec §5.3); the rest travels apart, signature_hash never.
      data: Object.fromEntries(Object.entries(body).filter(([k]) => signed.includes(k))),
      unverified: Object.fromEntries(Object.entries(body).filter(([k]) => !signed.includes(k))),
    });
    expect(Object.keys(verified.data).sort()).toEqual([...signed].sort());
    expect(request.body).not.toContain("signature_hash");
    expect(request.headers["webhook-id"]).toMatch(/^evt_[0-9a-f]{32}$/);
    expect(Number(request.headers["webhook-timestamp"])).toBe(Math.floor(testClock.now / 1000));
  });

  it("is refused by the library when the body or the secret differ (the referee is not a rubber stamp)", async () => {
    const ref = uniqueRef("tamper");
    await deliver("payment-link", await eventFor("payment-link", ref, "Created"));
    await after(0, ref);
    const [request] = origin.acknowledged as [Received];
    expect(verifyAtClock(request)).toMatchObject({ status: "Created" });
    expect(() => verifyAtClock({ ...request, body: request.body.replace("Created", "Success") })).toThrow(/signature/i);
    expect(() => verifyAtClock(request, `whsec_${btoa("another secret of 32 bytes......")}`)).toThrow(/signature/i);
  });

  it("carries the previous status of the object", async () => {
    const ref = uniqueRef("prev");
    await accept("payment-link", ref, "Created");
    await accept("payment-link", ref, "Processing");
    await after(0, ref);
    expect(origin.acknowledged.map((r) => [envelope(r).status, envelope(r).previous_status])).toEqual([
      ["Created", null],
      ["Processing", "Created"],
    ]);
  });

  it("duplicates and stale events are never forwarded", async () => {
    const ref = uniqueRef("nofwd");
    const success = await eventFor("payment-link", ref, "Success");
    await deliver("payment-link", success);
    await deliver("payment-link", success);
    expect(await resultOf(await deliver("payment-link", await eventFor("payment-link", ref, "Expired")))).toBe("stale");
    await after(0, ref);
    expect(origin.received.map((r) => envelope(r).status)).toEqual(["Success"]);
  });
});

/** A forwarded event as one attempt sends it. */
function forwardEvent(eventId: string): ForwardEvent {
  return {
    eventId,
    provider: "portone",
    kind: "payment",
    objectRef: "o",
    status: "Success",
    previousStatus: null,
    receivedAt: new Date(testClock.now).toISOString(),
    source: "webhook",
    sourceName: null,
    data: "{}",
    unverified: null,
  };
}

describe("one attempt", () => {
  it("gives up on an origin that does not answer within the timeout", async () => {
    origin.answer(
      (request) =>
        new Promise<Response>((_resolve, reject) =>
          request.signal.addEventListener("abort", () => reject(request.signal.reason as Error)),
        ),
    );
    const target = await forwardTarget({
      MERCHANT_ORIGIN_URL: ORIGIN_URL,
      FORWARD_SIGNING_SECRET: FORWARD_SECRET,
    });
    if (!target.ok) throw new Error(target.error);
    const event = forwardEvent(`evt_${"0".repeat(32)}`);
    expect(await send(await signedRequest(target.value, event, testClock.now, 20))).toEqual({
      ok: false,
      error: { httpStatus: null, error: "timeout: no answer from merchant.test within 20 ms" },
    });
  });

  it("refuses an http origin that is not loopback, and a secret that is not whsec_ base64", async () => {
    expect(
      await forwardTarget({
        MERCHANT_ORIGIN_URL: "http://merchant.example/hook",
        FORWARD_SIGNING_SECRET: FORWARD_SECRET,
      }),
    ).toMatchObject({ ok: false });
    expect(
      await forwardTarget({
        MERCHANT_ORIGIN_URL: "http://127.0.0.1:9000/hook",
        FORWARD_SIGNING_SECRET: FORWARD_SECRET,
      }),
    ).toMatchObject({ ok: true });
    expect(await forwardTarget({ MERCHANT_ORIGIN_URL: ORIGIN_URL, FORWARD_SIGNING_SECRET: "whsec_!!!" })).toMatchObject(
      { ok: false },
    );
    expect(await forwardTarget({ MERCHANT_ORIGIN_URL: ORIGIN_URL, FORWARD_SIGNING_SECRET: undefined })).toMatchObject({
      ok: false,
    });
  });

  it("names the host and the kind of failure, and keeps the first bytes of a failed answer", async () => {
    const target = await forwardTarget({ MERCHANT_ORIGIN_URL: ORIGIN_URL, FORWARD_SIGNING_SECRET: FORWARD_SECRET });
    if (!target.ok) throw new Error(target.error);
    const event = forwardEvent(`evt_${"1".repeat(32)}`);
    const attempt = async () => send(await signedRequest(target.value, event, testClock.now));
    origin.answer(() => new Response(`{"error":"db down",\n "trace":"${"x".repeat(400)}"}`, { status: 500 }));
    const failed = await attempt();
    const error = failed.ok ? "" : failed.error.error;
    expect(error).toMatch(/^merchant\.test answered 500: \{"error":"db down", "trace":"x+…$/);
    expect(error.length).toBeLessThan(340);
    origin.answer(() => {
      throw new TypeError("Network connection lost: connect ECONNREFUSED 127.0.0.1:443");
    });
    expect(await attempt()).toMatchObject({
      error: { error: expect.stringMatching(/^connection refused to merchant\.test: /) as unknown },
    });
    origin.answer(() => {
      throw new TypeError("getaddrinfo ENOTFOUND merchant.test");
    });
    expect(await attempt()).toMatchObject({
      error: { error: expect.stringMatching(/^DNS lookup failed to merchant\.test/) as unknown },
    });
  });
});
