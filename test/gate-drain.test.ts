// A backlog through a limited destination's leases drains at its rate, before and after an outage:
// a simulation on the injected clock of objects that come back at the slot the gate gave them.
import { env } from "cloudflare:workers";
import { presigned } from "../src/egress/deliver";
import { describe, expect, it, vi } from "vitest";
import { forwardUnderLease } from "../src/egress/gate-lease";
import { uniqueRef } from "./helpers";
import { origin, testClock } from "./stand-ins";

const request = presigned({ url: "https://merchant.test/webhooks/drain", headers: {}, body: "{}", timeoutMs: 1000 });
const limits = { maxPerSecond: 20, maxConcurrency: 4 };

/** Objects each come back at their retry time; returns when the last was sent (ms after start). */
async function drain(name: string, objects: number, failFirst: number, upAfterMs: number): Promise<number> {
  const start = testClock.now;
  let failures = 0;
  origin.answer(() => {
    if (failures < failFirst || testClock.now - start < upAfterMs) {
      failures += 1;
      return new Response(null, { status: 500 });
    }
    return new Response(null, { status: 204 });
  });
  const due = new Map<number, number>(Array.from({ length: objects }, (_, i) => [i, start]));
  for (let steps = 0; due.size > 0 && steps < 100_000; steps++) {
    const [id, at] = [...due].reduce((a, b) => (b[1] < a[1] ? b : a));
    if (at > testClock.now) testClock.advance(at - testClock.now);
    const answer = await forwardUnderLease(env, name, limits, request, null);
    if (!answer.sent) due.set(id, answer.retryAt);
    else if (answer.result.ok) due.delete(id);
    else due.set(id, testClock.now + 5_000); // a retry's backoff
  }
  expect(due.size).toBe(0);
  return testClock.now - start;
}

describe("a backlog through a limited destination", () => {
  it("drains at the rate when healthy", async () => {
    const took = await drain(uniqueRef("drain"), 100, 0, 0);
    expect(took).toBeLessThan(10_000);
  });

  it("drains after an outage opened and a probe closed the breaker", async () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const took = await drain(uniqueRef("outage"), 100, 5, 60_000);
    expect(took).toBeLessThan(60_000 + 30_000 + 40_000);
  });
});
