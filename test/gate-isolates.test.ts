// The gate's promises across isolates: maxPerSecond and maxConcurrency are never exceeded at the origin
// in any sliding second, and while the breaker is open only one probe at a time reaches it, whatever
// the number of isolates holding leases and however their leases hand over, pause, resume or fail.
// Each isolate is a separate instance of the lease module (imported under its own query string, so its
// leases and counters are its own), all asking one real Gate; the origin stand-in measures what reaches it.
import { evictDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { presigned } from "../src/egress/deliver";
import { describe, expect, it, vi } from "vitest";
import { BREAKER_THRESHOLD, gateFor, PROBE_INTERVAL_MS } from "../src/egress/gate";
import type { GateAnswer } from "../src/egress/gate-lease";
import type { GateLimits } from "../src/egress/rate";
import { uniqueRef } from "./helpers";
import { origin, testClock } from "./stand-ins";

type LeaseModule = typeof import("../src/egress/gate-lease");

/** `n` isolates: each its own instance of the lease module, starting with nothing. */
async function isolates(n: number): Promise<LeaseModule[]> {
  const modules: LeaseModule[] = [];
  for (let i = 0; i < n; i++) {
    const path = `../src/egress/gate-lease.ts?isolate=${i}`;
    modules.push((await import(/* @vite-ignore */ path)) as LeaseModule);
  }
  expect(new Set(modules).size).toBe(n); // each its own instance, as separate isolates are
  for (const m of modules) m.resetLocalLeases();
  return modules;
}

const TIMEOUT_MS = 30_000;
const request = (name: string) =>
  presigned({
    url: `https://merchant.test/webhooks/${name}`,
    headers: { "content-type": "application/json" },
    body: "{}",
    timeoutMs: TIMEOUT_MS,
  });

/** An origin that measures: arrivals (test clock), requests in flight at most, and how each is answered. */
function measuringOrigin(name: string) {
  const seen = { arrivals: [] as number[], inFlight: 0, mostInFlight: 0, openArrivals: [] as number[] };
  const hanging: Array<{ at: number; answer: (ok: boolean) => void }> = [];
  let mode: "ok" | "fail" | "hang" = "ok";
  origin.answer(async (req) => {
    if (!req.url.endsWith(`/${name}`)) return new Response(null, { status: 204 });
    const at = testClock.now;
    seen.arrivals.push(at);
    const gate = await gateFor(env, name).state();
    if (gate.breaker !== "closed") seen.openArrivals.push(at);
    seen.inFlight += 1;
    seen.mostInFlight = Math.max(seen.mostInFlight, seen.inFlight);
    try {
      if (mode === "fail") return new Response(null, { status: 500 });
      if (mode === "ok") return new Response(null, { status: 204 });
      const ok = await new Promise<boolean>((answer) => hanging.push({ at, answer }));
      return new Response(null, { status: ok ? 204 : 504 });
    } finally {
      seen.inFlight -= 1;
    }
  });
  return {
    seen,
    hanging,
    answerWith(next: "ok" | "fail" | "hang") {
      mode = next;
    },
    /** Ends hanging requests: all, or those whose deadline falls by `until`. */
    release(ok: boolean, until?: number) {
      const due = hanging.filter((h) => until === undefined || h.at + TIMEOUT_MS <= until);
      hanging.splice(0, hanging.length, ...hanging.filter((h) => !due.includes(h)));
      for (const h of due) h.answer(ok);
    },
  };
}

/** The most arrivals within any window of one second. */
function mostInASecond(times: readonly number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while ((sorted[i] as number) - (sorted[j] as number) >= 1000) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

/** Each isolate sends once if its lease allows (a refusal is not retried here). */
async function sendFrom(m: LeaseModule, name: string, limits: GateLimits): Promise<GateAnswer> {
  return m.forwardUnderLease(env, name, limits, request(name), null);
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 5));

describe("several isolates against one gate", () => {
  it("never put more than maxPerSecond in one sliding second at the origin, across lease handovers", async () => {
    const name = uniqueRef("handover");
    const limits = { maxPerSecond: 10, maxConcurrency: null };
    const o = measuringOrigin(name);
    const [a, b, c] = (await isolates(3)) as [LeaseModule, LeaseModule, LeaseModule];
    // a sends as fast as its lease lets it; b starts as a's first lease ends, c later: each takes over
    // a share while the sends of the lease before it are still in the origin's last second.
    const started = testClock.now;
    while (testClock.now - started < 8_000) {
      const t = testClock.now - started;
      await sendFrom(a, name, limits);
      if (t >= 1_990) await sendFrom(b, name, limits);
      if (t >= 3_500) await sendFrom(c, name, limits);
      testClock.advance(5);
    }
    expect(o.seen.arrivals.length).toBeGreaterThanOrEqual(50); // the limit is used, not only kept
    expect(mostInASecond(o.seen.arrivals)).toBeLessThanOrEqual(10);
  });

  it("never put more than maxConcurrency in flight, through a pause and resume while requests hang", async () => {
    const name = uniqueRef("pause-conc");
    const limits = { maxPerSecond: null, maxConcurrency: 2 };
    const o = measuringOrigin(name);
    o.answerWith("hang");
    const [a, b, admin] = (await isolates(3)) as [LeaseModule, LeaseModule, LeaseModule];
    const pending = [sendFrom(a, name, limits), sendFrom(a, name, limits)];
    await vi.waitFor(() => expect(o.seen.inFlight).toBe(2));
    await gateFor(env, name).setPaused(name, true);
    admin.forgetLeases(name);
    await gateFor(env, name).setPaused(name, false);
    admin.forgetLeases(name);
    for (let i = 0; i < 4; i++) {
      pending.push(sendFrom(b, name, limits), sendFrom(admin, name, limits), sendFrom(a, name, limits));
      testClock.advance(600);
      await settle();
    }
    expect(o.seen.mostInFlight).toBe(2);
    o.release(true);
    await Promise.all(pending);
  });

  it("send nothing but one probe at a time once the breaker is open, even an isolate holding an older lease", async () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const name = uniqueRef("older-lease");
    const limits = { maxPerSecond: null, maxConcurrency: null };
    const o = measuringOrigin(name);
    const [a, b] = (await isolates(2)) as [LeaseModule, LeaseModule];
    expect((await sendFrom(b, name, limits)).sent).toBe(true); // b's lease: granted while healthy
    o.answerWith("fail");
    for (let i = 0; i < BREAKER_THRESHOLD; i++) await sendFrom(a, name, limits);
    o.answerWith("hang");
    const pending: Array<Promise<GateAnswer>> = [];
    for (let i = 0; i < 10; i++) {
      pending.push(sendFrom(b, name, limits));
      testClock.advance(300);
      await settle();
    }
    for (let i = 0; i < 3; i++) {
      testClock.advance(PROBE_INTERVAL_MS);
      pending.push(sendFrom(a, name, limits), sendFrom(b, name, limits));
      await settle();
    }
    const state = await gateFor(env, name).state(name);
    expect(state.breaker).not.toBe("closed");
    // While open: the probes only, one at a time, 30 s apart.
    expect(o.seen.openArrivals.length).toBeLessThanOrEqual(3);
    for (let i = 1; i < o.seen.openArrivals.length; i++)
      expect((o.seen.openArrivals[i] ?? 0) - (o.seen.openArrivals[i - 1] ?? 0)).toBeGreaterThanOrEqual(
        PROBE_INTERVAL_MS,
      );
    o.release(false);
    await Promise.all(pending);
  });

  it("open the breaker of a quiet destination: its failures are counted across the gate's evictions", async () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const name = uniqueRef("quiet");
    const limits = { maxPerSecond: null, maxConcurrency: null };
    const o = measuringOrigin(name);
    o.answerWith("fail");
    const [a] = (await isolates(1)) as [LeaseModule];
    for (let i = 0; i < BREAKER_THRESHOLD + 1; i++) {
      await sendFrom(a, name, limits);
      await evictDurableObject(gateFor(env, name));
      testClock.advance(10 * 60_000);
    }
    expect(await gateFor(env, name).state(name)).toMatchObject({ breaker: "open" });
  });
});

describe("random interleavings of isolates' sends, outcomes, pauses and lease ends", () => {
  it("keep both limits in every sliding second and one probe at a time while the breaker is open", async () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const op = fc.oneof(
      {
        weight: 4,
        arbitrary: fc.record({
          kind: fc.constant("send" as const),
          isolate: fc.nat(2),
          count: fc.integer({ min: 1, max: 4 }),
        }),
      },
      {
        weight: 4,
        arbitrary: fc.record({
          kind: fc.constant("advance" as const),
          ms: fc.oneof(fc.integer({ min: 1, max: 300 }), fc.constantFrom(500, 1_000, 2_000, 31_000)),
        }),
      },
      {
        weight: 1,
        arbitrary: fc.record({
          kind: fc.constant("answer" as const),
          mode: fc.constantFrom("ok" as const, "fail" as const, "hang" as const),
        }),
      },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant("release" as const), ok: fc.boolean() }) },
      {
        weight: 1,
        arbitrary: fc.record({ kind: fc.constant("pause" as const), paused: fc.boolean(), isolate: fc.nat(2) }),
      },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 10, maxLength: 60 }), async (ops) => {
        const name = uniqueRef("interleave");
        const limits = { maxPerSecond: 5, maxConcurrency: 2 };
        const o = measuringOrigin(name);
        const all = await isolates(3);
        const pending: Array<Promise<GateAnswer>> = [];
        for (const step of ops) {
          if (step.kind === "send")
            for (let i = 0; i < step.count; i++) pending.push(sendFrom(all[step.isolate] as LeaseModule, name, limits));
          else if (step.kind === "advance") {
            // A request hanging past its deadline ends then (as fetchBounded's deadline would end it).
            o.release(false, testClock.now + step.ms);
            testClock.advance(step.ms);
          } else if (step.kind === "answer") o.answerWith(step.mode);
          else if (step.kind === "release") o.release(step.ok);
          else {
            await gateFor(env, name).setPaused(name, step.paused);
            (all[step.isolate] as LeaseModule).forgetLeases(name);
          }
          await settle();
        }
        o.release(true);
        await Promise.all(pending);
        expect(o.seen.mostInFlight).toBeLessThanOrEqual(2);
        expect(mostInASecond(o.seen.arrivals)).toBeLessThanOrEqual(5);
        for (let i = 1; i < o.seen.openArrivals.length; i++)
          expect((o.seen.openArrivals[i] ?? 0) - (o.seen.openArrivals[i - 1] ?? 0)).toBeGreaterThanOrEqual(
            PROBE_INTERVAL_MS,
          );
      }),
      { numRuns: 25 },
    );
  }, 120_000);
});
