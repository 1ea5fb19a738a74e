// Properties of the ledger and the outbox under arbitrary orders and a misbehaving origin:
// a finished object never moves backwards; what is forwarded for one object is always a path of
// its state machine; under load with a flapping, slow origin every accepted event is delivered,
// in order per object, and never again once acknowledged.
import { runDurableObjectAlarm } from "cloudflare:test";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PAYMENT_LINK } from "../src/providers/portone/kinds";
import { positionOf } from "../src/providers/types";
import { deliver, eventFor, isPathOf, KINDS, ledgerOf, resultOf, storedObject, uniqueRef } from "./helpers";
import { envelope, origin, testClock } from "./stand-ins";

const LINK = KINDS["payment-link"];
const STATUSES = ["Created", "Processing", "Success", "Expired", "Cancelled", "OnHold"];

const isPath = (statuses: readonly string[]): boolean => isPathOf(PAYMENT_LINK.lifecycle, statuses);

/** Deterministic pseudo-random numbers (mulberry32), so a failing run can be replayed. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("properties", () => {
  it("random interleavings and redeliveries never move a terminal object backwards; forwards form a path", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom(...STATUSES), { minLength: 1, maxLength: 10 }), async (sequence) => {
        const ref = uniqueRef("walk");
        const results: string[] = [];
        for (const status of sequence)
          results.push(await resultOf(await deliver("payment-link", await eventFor("payment-link", ref, status))));
        await runDurableObjectAlarm(ledgerOf(LINK, ref));
        const forwarded = origin.acknowledged
          .filter((r) => envelope(r).object_ref === ref)
          .map((r) => envelope(r).status);
        expect(isPath(forwarded)).toBe(true);
        expect(forwarded).toEqual(sequence.filter((_, i) => results[i] === "accepted"));
        const stored = await storedObject(LINK, ref);
        expect(stored.state?.status).toBe(forwarded.at(-1));
        const firstTerminal = sequence.findIndex((s) => positionOf(PAYMENT_LINK.lifecycle, s).terminal);
        if (firstTerminal >= 0) expect(stored.state?.status).toBe(sequence[firstTerminal]);
      }),
      { numRuns: 40 },
    );
  }, 30_000); // 40 random lifecycles through real storage: CPU-bound, slow on a loaded 2-core machine

  it("under load, with an origin that fails half the time and answers slowly, nothing is lost or delivered twice", async () => {
    const random = seeded(20261122);
    origin.answer(async () => {
      await scheduler.wait(1); // a slow origin: the answer comes after real I/O time
      const roll = random();
      if (roll < 0.2) return new Response("busy", { status: 503 });
      if (roll < 0.35) throw new TypeError("Network connection lost");
      if (roll < 0.5) throw new DOMException("timed out", "TimeoutError");
      return new Response(null, { status: 200 });
    });
    const refs = Array.from({ length: 20 }, () => uniqueRef("load"));
    const lifecycle = ["Created", "Processing", "Success"];
    const answers = await Promise.all(
      refs.flatMap((ref) =>
        lifecycle.map(async (status, i) => {
          await scheduler.wait(i); // keep each object's own order while objects interleave
          return resultOf(await deliver("payment-link", await eventFor("payment-link", ref, status)));
        }),
      ),
    );
    expect(answers.every((a) => a === "accepted")).toBe(true);
    for (let round = 0; round < 30; round++) {
      await Promise.all(refs.map((ref) => runDurableObjectAlarm(ledgerOf(LINK, ref))));
      if (origin.acknowledged.length === refs.length * lifecycle.length) break;
      testClock.advance(13 * 3600 * 1000);
    }
    const acknowledged = origin.acknowledged.map(envelope);
    expect(new Set(acknowledged.map((e) => e.id)).size).toBe(acknowledged.length);
    expect(acknowledged).toHaveLength(refs.length * lifecycle.length);
    for (const ref of refs)
      expect(acknowledged.filter((e) => e.object_ref === ref).map((e) => e.status)).toEqual(lifecycle);
    expect(origin.received.length).toBeGreaterThan(acknowledged.length); // the origin really did fail
  }, 30_000);
});
