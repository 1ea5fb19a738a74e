// Whatever PortOne's API and the webhooks say about one payment, in whatever order, and whatever
// the API fails with in between: the statuses forwarded for the object are a path of its lifecycle,
// no status is forwarded twice, and exactly the statuses a reference model of the contract expects
// are forwarded (so a gateway that forwards nothing fails it too).
import { runDurableObjectAlarm } from "cloudflare:test";
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { PAYMENT } from "../src/providers/portone/kinds";
import { positionOf } from "../src/providers/types";
import { deliver, eventFor, isPathOf, KINDS, ledgerOf, uniqueRef } from "./helpers";
import { envelope, origin } from "./stand-ins";
import { fakePortOne, installFakePortOne, paymentContent, type Misbehaviour } from "./portone-stand-in";

const STATUSES = ["Initiated", "Pending", "Success", "Failed", "Expired"];

type Step =
  | { readonly by: "webhook"; readonly status: string }
  | { readonly by: "api"; readonly status: string }
  | { readonly by: "api-fails"; readonly how: Misbehaviour | "unknown" };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ by: fc.constant("webhook" as const), status: fc.constantFrom(...STATUSES) }),
  fc.record({ by: fc.constant("api" as const), status: fc.constantFrom(...STATUSES) }),
  fc.record({
    by: fc.constant("api-fails" as const),
    how: fc.constantFrom("500", "hang", "garbage", "unknown" as const),
  }),
);

const isPath = (statuses: readonly string[]): boolean => isPathOf(PAYMENT.lifecycle, statuses);

/** The contract as a model: a status the object has had (from either source) is never forwarded
 *  again; nothing moves a finished object; a status below the rank reached is stale. */
function expectedForwarded(steps: readonly Step[]): string[] {
  const had = new Set<string>();
  const out: string[] = [];
  let rank = -1;
  let finished = false;
  for (const s of steps) {
    if (s.by === "api-fails") continue;
    const status = s.status.toLowerCase();
    if (had.has(status)) continue;
    had.add(status);
    const position = positionOf(PAYMENT.lifecycle, status);
    if (finished || (position.rank !== null && position.rank < rank)) continue;
    out.push(status);
    if (position.terminal) finished = true;
    if (position.rank !== null) rank = Math.max(rank, position.rank);
  }
  return out;
}

describe("reconciliation properties", () => {
  it("forwarded statuses of one object are a path of its lifecycle, none twice", { timeout: 60_000 }, async () => {
    vi.spyOn(console, "warn").mockImplementation(() => undefined);
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 8 }), async (steps) => {
        installFakePortOne();
        const ref = uniqueRef("prop");
        const stub = ledgerOf(KINDS.payment, ref);
        const name = `portone:payment:${ref}`;
        for (const s of steps) {
          if (s.by === "webhook") await deliver("payment", await eventFor("payment", ref, s.status));
          else {
            fakePortOne.payments.clear();
            fakePortOne.misbehaving = null;
            if (s.by === "api") fakePortOne.payments.set(ref, paymentContent(ref, s.status));
            else if (s.how !== "unknown") fakePortOne.misbehaving = s.how;
            await stub.checkWithPortOne(name, { kind: "object" });
          }
          while (await runDurableObjectAlarm(stub));
        }
        const forwarded = origin.acknowledged.map((r) => envelope(r)).filter((e) => e.object_ref === ref);
        const statuses = forwarded.map((e) => e.status.toLowerCase());
        expect(isPath(statuses)).toBe(true);
        expect(new Set(statuses).size).toBe(statuses.length);
        expect(statuses).toEqual(expectedForwarded(steps));
      }),
      { numRuns: 40 },
    );
  });
});
