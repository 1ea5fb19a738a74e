// Retries and order: through an origin that fails in every way and recovers, every event arrives
// once acknowledged, in order per object, and objects never wait for each other.
import { describe, expect, it } from "vitest";
import { ledgerOf, uniqueRef } from "./helpers";
import { envelope, origin, testClock, type Envelope } from "./stand-ins";
import { LINK, accept, after, ids } from "./delivery-helpers";

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
    expect(report.attempts[0]?.error).toBe("merchant.test answered 503");
    expect(report.events[0]?.delivery).toBe("delivered");
  });

  it("reports when each pending event is next tried: one queued behind a retried event waits for its retry", async () => {
    const ref = uniqueRef("next");
    origin.answer(() => new Response(null, { status: 500 }));
    await accept("payment-link", ref, "Created");
    await accept("payment-link", ref, "Success");
    await after(0, ref);
    const report = await ledgerOf(LINK, ref).inspect();
    const [head, behind] = report.deliveries;
    expect(head).toMatchObject({ state: "pending", attempts_this_cycle: 1 });
    expect(Date.parse(head?.next_attempt_at as string)).toBeGreaterThan(testClock.now);
    expect(behind?.next_attempt_at).toBe(head?.next_attempt_at); // not 1970: it goes after the head's retry
    expect(report.events.map((e) => e.next_attempt_at)).toEqual([head?.next_attempt_at, head?.next_attempt_at]);
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
