// Delivery to the merchant's origin: the forwarded format, its signature (checked by the
// independent standardwebhooks library), order per object, retries through an origin that fails
// in every way and recovers, and eviction at the worst moments. Alarms are fired with
// runDurableObjectAlarm and time is moved with the injected clock: no sleeps.
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { Webhook } from "standardwebhooks";
import { describe, expect, it, vi } from "vitest";
import { deliverOnce, forwardTarget } from "../src/egress/deliver";
import { KINDS, deliver, eventFor, ledgerOf, resultOf, uniqueRef } from "./helpers";
import { envelope, ORIGIN_URL, origin, testClock, type Envelope, type Received } from "./stand-ins";
import { testEnv } from "./env";

const FORWARD_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const LINK = KINDS["payment-link"];

const ids = (list: Received[]) => list.map((r) => envelope(r).id);

/** The standardwebhooks library checks the timestamp against Date.now(): verify at the test clock. */
function verifyAtClock(request: Received, secret = FORWARD_SECRET): Envelope {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(testClock.now);
  try {
    return new Webhook(secret).verify(request.body, request.headers) as Envelope;
  } finally {
    vi.useRealTimers();
  }
}

/** Moves the injected clock and fires the object's alarm once. */
async function after(ms: number, ref: string, kind = LINK): Promise<void> {
  testClock.advance(ms);
  await runDurableObjectAlarm(ledgerOf(kind, ref));
}

async function accept(slug: "payment-link" | "payment", ref: string, status: string): Promise<void> {
  expect(await resultOf(await deliver(slug, await eventFor(slug, ref, status)))).toBe("accepted");
}

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

describe("retries", () => {
  it("through a 500, a timeout and a refused connection, every event arrives once acknowledged, in order", async () => {
    const ref = uniqueRef("flap");
    const failures: Array<() => Response> = [
      () => new Response("boom", { status: 500 }),
      () => {
        throw new DOMException("The operation timed out", "TimeoutError");
      },
      () => {
        throw new TypeError("Network connection lost: connect ECONNREFUSED");
      },
      () => Response.redirect("https://elsewhere.test/", 302),
    ];
    origin.answer(() => (failures.shift() ?? (() => new Response("ok")))());
    await accept("payment-link", ref, "Created");
    await accept("payment-link", ref, "Processing");
    await accept("payment-link", ref, "Success");
    await after(0, ref); // 500
    await after(6_500, ref); // timeout (first retry within 5-6.25 s)
    await after(40_000, ref); // refused
    await after(160_000, ref); // redirect: not followed, a failure
    expect(origin.acknowledged).toHaveLength(0);
    expect(new Set(ids(origin.received)).size).toBe(1); // the later events waited behind the first
    await after(800_000, ref); // recovered
    expect(origin.acknowledged.map((r) => envelope(r).status)).toEqual(["Created", "Processing", "Success"]);
    expect(new Set(ids(origin.acknowledged)).size).toBe(3);
    const firstBodies = new Set(origin.received.filter((r) => envelope(r).status === "Created").map((r) => r.body));
    expect(firstBodies.size).toBe(1); // the same body (and webhook-id) on every retry
    await after(86_400_000, ref);
    expect(origin.received).toHaveLength(5 + 2); // nothing is sent again once acknowledged
  });

  it("records every attempt with its time and result", async () => {
    const ref = uniqueRef("attempts");
    let calls = 0;
    origin.answer(() => (++calls === 1 ? new Response(null, { status: 503 }) : new Response(null, { status: 200 })));
    await accept("payment-link", ref, "Created");
    await after(0, ref);
    await after(7_000, ref);
    const report = await ledgerOf(LINK, ref).inspect();
    expect(report.attempts.map((a) => [a.outcome, a.http_status])).toEqual([
      ["failed", 503],
      ["delivered", 200],
    ]);
    expect(report.attempts[0]?.error).toBe("origin answered 503");
    expect(report.events[0]?.delivery).toBe("delivered");
  });

  it("objects never wait for each other: one object's retries do not hold another's events", async () => {
    const [slow, fast] = [uniqueRef("slow"), uniqueRef("fast")];
    origin.answer(async (request) => {
      const { object_ref } = await request.json<Envelope>();
      return new Response(null, { status: object_ref === slow ? 500 : 200 });
    });
    await accept("payment-link", slow, "Created");
    await accept("payment-link", slow, "Success");
    await accept("payment-link", fast, "Created");
    await accept("payment-link", fast, "Success");
    await after(0, slow);
    await after(0, fast);
    expect(origin.acknowledged.map((r) => [envelope(r).object_ref, envelope(r).status])).toEqual([
      [fast, "Created"],
      [fast, "Success"],
    ]);
    expect(origin.received.filter((r) => envelope(r).object_ref === slow).map((r) => envelope(r).status)).toEqual([
      "Created",
    ]);
  });
});

describe("eviction", () => {
  it("between the record and the alarm loses nothing", async () => {
    const ref = uniqueRef("evict-rec");
    await accept("payment-link", ref, "Created");
    const stub = ledgerOf(LINK, ref);
    await evictDurableObject(stub);
    expect(await runInDurableObject(stub, (_i, state) => state.storage.getAlarm())).toBe(testClock.now);
    await after(0, ref);
    expect(origin.acknowledged.map((r) => envelope(r).status)).toEqual(["Created"]);
  });

  it("after a failed attempt, before its retry, loses nothing", async () => {
    const ref = uniqueRef("evict-retry");
    origin.answer(() => new Response(null, { status: 500 }));
    await accept("payment-link", ref, "Created");
    await after(0, ref);
    origin.answer(() => new Response(null, { status: 200 }));
    await evictDurableObject(ledgerOf(LINK, ref));
    await after(10_000, ref);
    expect(origin.acknowledged.map((r) => envelope(r).status)).toEqual(["Created"]);
  });

  it("during a delivery: the interrupted attempt is closed and the event is delivered on the next run", async () => {
    const ref = uniqueRef("evict-mid");
    await accept("payment-link", ref, "Created");
    const stub = ledgerOf(LINK, ref);
    // The state a run leaves when it stops mid-request: attempt counted and in flight.
    await runInDurableObject(stub, (_instance, state) => {
      state.storage.sql.exec("UPDATE outbox SET cycle_attempts = 1");
      state.storage.sql.exec(
        "INSERT INTO delivery_attempts (event_id, started_at, outcome) SELECT event_id, ?, 'in_flight' FROM outbox",
        testClock.now,
      );
    });
    await evictDurableObject(stub);
    await after(0, ref);
    expect(origin.acknowledged.map((r) => envelope(r).status)).toEqual(["Created"]);
    const report = await stub.inspect();
    expect(report.attempts.map((a) => a.outcome)).toEqual(["interrupted", "delivered"]);
  });
});

describe("deliverOnce", () => {
  it("gives up on an origin that does not answer within the timeout", async () => {
    origin.answer(
      (request) =>
        new Promise<Response>((_resolve, reject) =>
          request.signal.addEventListener("abort", () => reject(request.signal.reason as Error)),
        ),
    );
    const target = await forwardTarget(
      testEnv({
        MERCHANT_ORIGIN_URL: ORIGIN_URL,
        FORWARD_SIGNING_SECRET: FORWARD_SECRET,
      }),
    );
    if ("error" in target) throw new Error(target.error);
    const event = {
      eventId: "evt_0",
      provider: "portone",
      kind: "payment",
      objectRef: "o",
      status: "Success",
      previousStatus: null,
      receivedAt: new Date(testClock.now).toISOString(),
      source: "webhook",
      data: "{}",
      unverified: null,
    };
    expect(await deliverOnce(target, event, testClock.now, 20)).toEqual({
      ok: false,
      httpStatus: null,
      error: "no answer within 20 ms",
    });
  });

  it("refuses an http origin that is not loopback, and a secret that is not whsec_ base64", async () => {
    expect(
      await forwardTarget(
        testEnv({
          MERCHANT_ORIGIN_URL: "http://merchant.example/hook",
          FORWARD_SIGNING_SECRET: FORWARD_SECRET,
        }),
      ),
    ).toHaveProperty("error");
    expect(
      await forwardTarget(
        testEnv({
          MERCHANT_ORIGIN_URL: "http://127.0.0.1:9000/hook",
          FORWARD_SIGNING_SECRET: FORWARD_SECRET,
        }),
      ),
    ).toHaveProperty("url");
    expect(
      await forwardTarget(testEnv({ MERCHANT_ORIGIN_URL: ORIGIN_URL, FORWARD_SIGNING_SECRET: "whsec_!!!" })),
    ).toHaveProperty("error");
    expect(
      await forwardTarget(testEnv({ MERCHANT_ORIGIN_URL: ORIGIN_URL, FORWARD_SIGNING_SECRET: undefined })),
    ).toHaveProperty("error");
  });
});
