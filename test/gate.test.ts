// The gate of a destination (design: "Destinations and origin protection"): limits on rate and
// concurrency that hold whatever the backlog, spread waiting times, a circuit breaker (5 failures in
// a row open it; one probe at most every 30 s; a success closes it), Retry-After honoured, and
// waiting that never spends an event's retry budget. Driven through the Gate's RPC and through
// objects' alarms, with the origin stand-in at the fetch boundary.
import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { presigned } from "../src/egress/deliver";
import { describe, expect, it, vi } from "vitest";
import { gateFor, LEASE_MS, PROBE_INTERVAL_MS, type Lease, type LeaseAnswer } from "../src/egress/gate";
import { forwardUnderLease, type GateAnswer } from "../src/egress/gate-lease";
import { ledgerFor } from "../src/ledger/client";
import { adminFetch } from "./admin-helpers";
import { referenceHmac, uniqueRef } from "./helpers";
import { envelope, origin, testClock } from "./stand-ins";

const request = (name: string) =>
  presigned({
    url: `https://merchant.test/webhooks/${name}`,
    headers: { "content-type": "application/json" },
    body: "{}",
    timeoutMs: 1000,
  });
const limits = (maxPerSecond: number | null, maxConcurrency: number | null) => ({ maxPerSecond, maxConcurrency });

async function sendFanout(ref: string, status: string): Promise<void> {
  const body = JSON.stringify({ id: ref, status });
  const mac = await referenceHmac("fanout-test-secret-0123456789", body);
  const signature = [...mac].map((b) => b.toString(16).padStart(2, "0")).join("");
  const { default: worker } = await import("../src/index");
  const { createExecutionContext } = await import("cloudflare:test");
  const response = await worker.fetch(
    new Request("https://gateway.test/webhooks/hmac/fanout", {
      method: "POST",
      body,
      headers: { "x-signature": signature },
    }),
    env,
    createExecutionContext(),
  );
  expect(response.status).toBe(200);
}

describe("the gate's limits", () => {
  it("spaces sends by 1 / maxPerSecond and gives each waiting caller its own, later slot", async () => {
    const name = uniqueRef("rate");
    const answers: GateAnswer[] = [];
    for (let i = 0; i < 5; i++)
      answers.push(await forwardUnderLease(env, name, limits(10, null), request("rate"), null));
    expect(answers[0]?.sent).toBe(true);
    const slots = answers.slice(1).map((a) => (a.sent ? NaN : a.retryAt - testClock.now));
    expect(slots.every((ms) => ms >= 100)).toBe(true);
    // Distinct and increasing by at least the spacing: a thousand waiting objects do not wake at once.
    for (let i = 1; i < slots.length; i++) expect((slots[i] ?? 0) - (slots[i - 1] ?? 0)).toBeGreaterThanOrEqual(100);
    expect(origin.received).toHaveLength(1);
  });

  it("keeps a headroom under maxPerSecond: any maxPerSecond + 1 sends in a row span more than a second", async () => {
    const name = uniqueRef("headroom");
    const sentAt: number[] = [];
    while (sentAt.length < 21) {
      const answer = await forwardUnderLease(env, name, limits(20, null), request("headroom"), null);
      if (answer.sent) sentAt.push(testClock.now);
      else testClock.advance(Math.max(1, answer.retryAt - testClock.now));
    }
    // Exactly 50 ms apart, 21 sends would fit in one closed second and jitter would show the origin 21.
    expect((sentAt[20] ?? 0) - (sentAt[0] ?? 0)).toBeGreaterThan(1000);
  });

  it("admits a waiting caller woken at its slot's whole millisecond, at a rate whose spacing is fractional", async () => {
    const name = uniqueRef("fraction");
    const first = await forwardUnderLease(env, name, limits(30, null), request("fraction"), null);
    expect(first.sent).toBe(true);
    const slots: number[] = [];
    for (let i = 0; i < 5; i++) {
      const answer = await forwardUnderLease(env, name, limits(30, null), request("fraction"), null);
      slots.push(answer.sent ? NaN : answer.retryAt);
    }
    // Each comes back when its alarm fires, on a whole millisecond (the slots are 34.01… ms apart: 30/s
    // less the 2 % headroom): a fractional slot once made every woken caller read a time before it, be refused and go
    // to the back of the line, and bench:protection's surge at 30/s stalled with 296 events waiting.
    for (const slot of slots) {
      testClock.advance(Math.floor(slot) - testClock.now);
      expect((await forwardUnderLease(env, name, limits(30, null), request("fraction"), null)).sent).toBe(true);
    }
  });

  it("never lets more than maxConcurrency requests be in flight; the others wait without an attempt", async () => {
    let inFlight = 0;
    let most = 0;
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    origin.answer(async (req) => {
      if (!req.url.endsWith("/limited")) return new Response(null, { status: 204 });
      inFlight += 1;
      most = Math.max(most, inFlight);
      await held;
      inFlight -= 1;
      return new Response(null, { status: 204 });
    });
    const refs = Array.from({ length: 4 }, () => uniqueRef("conc"));
    for (const ref of refs) await sendFanout(ref, "limited");
    const runs = refs.map((ref) => runDurableObjectAlarm(ledgerFor(env, "fanout", "order", ref)));
    await vi.waitFor(() => expect(inFlight).toBe(2));
    // The two refused runs end at once: their objects took their attempt back (the budget is untouched).
    const refusedCount = async () => {
      let n = 0;
      for (const ref of refs) {
        const report = await ledgerFor(env, "fanout", "order", ref).inspect();
        const limited = report.deliveries.find((d) => d.destination === "limited");
        const attempted = report.attempts.some((a) => a.destination === "limited");
        const waiting =
          typeof limited?.last_error === "string" && limited.last_error.startsWith("waiting: concurrency");
        if (limited?.state === "pending" && limited.attempts_this_cycle === 0 && waiting && !attempted) n += 1;
      }
      return n;
    };
    await vi.waitFor(async () => expect(await refusedCount()).toBe(2));
    release();
    await Promise.all(runs);
    expect(most).toBe(2);
    testClock.advance(1000);
    for (const ref of refs) while (await runDurableObjectAlarm(ledgerFor(env, "fanout", "order", ref)));
    const limitedGot = origin.acknowledged.filter((r) => r.url.endsWith("/limited")).map((r) => envelope(r).object_ref);
    expect(new Set(limitedGot)).toEqual(new Set(refs));
    expect(most).toBe(2);
  });
});

describe("the gate's leases", () => {
  const ask = (name: string, holder: string) => ({
    destination: name,
    holder,
    limits: limits(20, 4),
    timeoutMs: 1000,
    objectName: null,
    inFlight: 0,
  });

  it("never grant live shares that add up to more than the limits, whatever the number of isolates", async () => {
    const name = uniqueRef("shares");
    const gate = gateFor(env, name);
    const answers: LeaseAnswer[] = [];
    for (const holder of ["a", "b", "c", "d", "e"]) answers.push(await gate.lease(ask(name, holder)));
    // The first took the whole; its renewal takes its part only, and once what it held before has left
    // the origin's sliding second (its lease's end and a second more), the others get theirs.
    expect(await gate.lease(ask(name, "a"))).toMatchObject({ granted: true, lease: { perSecond: 4 } });
    expect(await gate.lease(ask(name, "b"))).toMatchObject({ granted: false });
    testClock.advance(LEASE_MS + 1_100);
    answers.push(await gate.lease(ask(name, "a")));
    for (const holder of ["b", "c"]) answers.push(await gate.lease(ask(name, holder)));
    const live = new Map<string, Lease>();
    ["a", "b", "c", "d", "e", "a", "b", "c"].forEach((holder, i) => {
      const answer = answers[i];
      if (answer?.granted) live.set(holder, answer.lease);
    });
    const granted = [...live.values()];
    expect(granted.length).toBeGreaterThanOrEqual(3);
    expect(granted.reduce((sum, l) => sum + (l.perSecond ?? 0), 0)).toBeLessThanOrEqual(20);
    expect(granted.reduce((sum, l) => sum + (l.concurrency ?? 0), 0)).toBeLessThanOrEqual(4);
    // A refused isolate is told to come back when a share is free again, not granted more.
    expect(answers[1]).toMatchObject({ granted: false });
    // An isolate asking again replaces its own lease rather than adding a second one.
    expect((await gate.state()).leases).toBe(granted.length);
  });

  it("cost one gate request per lease, not per forward, and the lease keeps the rate", async () => {
    const name = uniqueRef("lease");
    const sends = [];
    for (let i = 0; i < 10; i++) {
      sends.push(await forwardUnderLease(env, name, limits(10, null), request("lease"), null));
      testClock.advance(103); // 10/s less the gate's 2 % headroom for network jitter: one per 102 ms
    }
    expect(sends.every((a) => a.sent)).toBe(true);
    expect((await gateFor(env, name).state()).asked_since_start).toBe(1);
    // A pause reaches this isolate at once: it forgets its lease and the gate refuses a new one.
    expect((await adminFetch(`/destinations/erp/pause`, { method: "POST" })).status).toBe(200);
    expect(await forwardUnderLease(env, "erp", limits(null, null), request("erp"), null)).toMatchObject({
      sent: false,
      reason: "paused",
    });
  });
});

describe("the circuit breaker", () => {
  it("opens after 5 failures in a row, lets one probe through every 30 s, and closes on a success", async () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const name = uniqueRef("breaker");
    const gate = gateFor(env, name);
    origin.answer(() => new Response(null, { status: 500 }));
    for (let i = 0; i < 5; i++)
      expect((await forwardUnderLease(env, name, limits(null, null), request("b"), null)).sent).toBe(true);
    expect((await gate.state()).breaker).toBe("open");
    const refused = await forwardUnderLease(env, name, limits(null, null), request("b"), null);
    expect(refused).toMatchObject({ sent: false, reason: "open" });
    expect(refused.sent ? 0 : refused.retryAt - testClock.now).toBeGreaterThanOrEqual(PROBE_INTERVAL_MS - 1);
    testClock.advance(PROBE_INTERVAL_MS);
    expect((await forwardUnderLease(env, name, limits(null, null), request("b"), null)).sent).toBe(true); // a failing probe
    expect((await gate.state()).breaker).toBe("open");
    expect((await forwardUnderLease(env, name, limits(null, null), request("b"), null)).sent).toBe(false);
    origin.answer(() => new Response(null, { status: 204 }));
    testClock.advance(PROBE_INTERVAL_MS);
    expect((await forwardUnderLease(env, name, limits(null, null), request("b"), null)).sent).toBe(true);
    expect((await gate.state()).breaker).toBe("closed");
    expect(origin.received).toHaveLength(7);
  });

  it("honours Retry-After on a 429 or 503, without counting a 429 as a failure", async () => {
    const name = uniqueRef("retry-after");
    const gate = gateFor(env, name);
    origin.answer(() => new Response(null, { status: 429, headers: { "retry-after": "120" } }));
    expect((await forwardUnderLease(env, name, limits(null, null), request("r"), null)).sent).toBe(true);
    const waiting = await forwardUnderLease(env, name, limits(null, null), request("r"), null);
    expect(waiting).toMatchObject({ sent: false, reason: "rate" });
    expect(waiting.sent ? 0 : waiting.retryAt - testClock.now).toBeGreaterThanOrEqual(120_000);
    expect((await gate.state()).consecutive_failures).toBe(0);
  });

  it("a 429 neither closes an open breaker nor resets the failures: 500 and 429 alternating open it", async () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const name = uniqueRef("429");
    const gate = gateFor(env, name);
    let n = 0;
    origin.answer(() => new Response(null, { status: n++ % 2 === 0 ? 500 : 429 }));
    for (let i = 0; i < 9; i++)
      expect((await forwardUnderLease(env, name, limits(null, null), request("t"), null)).sent).toBe(true);
    expect(await gate.state()).toMatchObject({ breaker: "open", consecutive_failures: 5 });
    origin.answer(() => new Response(null, { status: 429 }));
    testClock.advance(PROBE_INTERVAL_MS);
    expect((await forwardUnderLease(env, name, limits(null, null), request("t"), null)).sent).toBe(true); // the probe: 429
    expect((await gate.state()).breaker).toBe("open");
    origin.answer(() => new Response(null, { status: 204 }));
    testClock.advance(PROBE_INTERVAL_MS);
    expect((await forwardUnderLease(env, name, limits(null, null), request("t"), null)).sent).toBe(true);
    expect(await gate.state()).toMatchObject({ breaker: "closed", consecutive_failures: 0 });
  });

  it("waiting for an open breaker never spends an event's retry budget", async () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    vi.spyOn(console, "warn").mockImplementation(() => undefined);
    origin.answer((req) => new Response(null, { status: req.url.endsWith("/erp") ? 503 : 204 }));
    const refs = Array.from({ length: 6 }, () => uniqueRef("budget"));
    for (const ref of refs) await sendFanout(ref, "paid");
    for (const ref of refs) await runDurableObjectAlarm(ledgerFor(env, "fanout", "order", ref));
    const views = await (
      await adminFetch("/destinations")
    ).json<{ destinations: Array<{ name: string; breaker: string }> }>();
    expect(views.destinations.find((d) => d.name === "erp")?.breaker).toBe("open");
    const last = await ledgerFor(env, "fanout", "order", refs[5] as string).inspect();
    const erp = last.deliveries.find((d) => d.destination === "erp");
    expect(erp).toMatchObject({ state: "pending", attempts_this_cycle: 0 });
    expect(last.attempts.filter((a) => a.destination === "erp")).toEqual([]);
  });
});

describe("operators", () => {
  it("see each destination's state and can pause and resume it", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const list = await (await adminFetch("/destinations")).json<{ destinations: Array<Record<string, unknown>> }>();
    expect(list.destinations.map((d) => d.name)).toEqual(["default", "erp", "limited", "analytics", "picky"]);
    expect(list.destinations[0]).toMatchObject({ state: "active", breaker: "closed", host: "merchant.test" });
    const erpPending = (list.destinations.find((d) => d.name === "erp")?.pending as number) ?? 0;
    const paused = await adminFetch("/destinations/erp/pause", { method: "POST" });
    expect(await paused.json()).toMatchObject({ name: "erp", state: "paused" });
    const ref = uniqueRef("paused");
    await sendFanout(ref, "paid");
    await runDurableObjectAlarm(ledgerFor(env, "fanout", "order", ref));
    expect(origin.acknowledged.filter((r) => r.url.endsWith("/erp"))).toHaveLength(0);
    expect(origin.acknowledged.filter((r) => r.url.endsWith("/analytics"))).toHaveLength(1);
    const backlog = await (await adminFetch("/destinations")).json<{ destinations: Array<Record<string, unknown>> }>();
    expect(backlog.destinations.find((d) => d.name === "erp")).toMatchObject({
      state: "paused",
      pending: erpPending + 1,
    });
    expect(await (await adminFetch("/destinations/erp/resume", { method: "POST" })).json()).toMatchObject({
      state: "active",
      pending: erpPending + 1,
    });
    testClock.advance(61_000);
    while (await runDurableObjectAlarm(ledgerFor(env, "fanout", "order", ref)));
    expect(origin.acknowledged.filter((r) => r.url.endsWith("/erp"))).toHaveLength(1);
    const drained = await (await adminFetch("/destinations")).json<{ destinations: Array<Record<string, unknown>> }>();
    expect(drained.destinations.find((d) => d.name === "erp")).toMatchObject({ pending: erpPending });
    expect((await adminFetch("/destinations/nobody/pause", { method: "POST" })).status).toBe(404);
  });
});
