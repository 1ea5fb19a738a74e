// Lifecycles (spec §3.3, §5.1, §6.1): events move an object forward; a late or backwards event is
// recorded as stale and changes nothing; state lives in SQLite and survives eviction.
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { advance, decide } from "../src/ledger/decide";
import { MIGRATIONS } from "../src/ledger/schema";
import { KINDS, deliver, eventFor, ledgerOf, resultOf, storedObject, uniqueRef, type Slug } from "./helpers";

async function send(slug: Slug, ref: string, status: string, extra: Record<string, unknown> = {}): Promise<string> {
  const response = await deliver(slug, await eventFor(slug, ref, status, extra));
  expect(response.status).toBe(200);
  return resultOf(response);
}

describe("payment link lifecycle", () => {
  it("Created, Processing, Success are accepted; a later, distinct Processing or Expired is stale", async () => {
    const ref = uniqueRef("link");
    expect(await send("payment-link", ref, "Created")).toBe("accepted");
    expect(await send("payment-link", ref, "Processing")).toBe("accepted");
    expect(await send("payment-link", ref, "Success")).toBe("accepted");
    // Another signed amount makes it another event (unsigned fields would not: see dedupe.test.ts).
    expect(await send("payment-link", ref, "Processing", { amount: 1 })).toBe("stale");
    expect(await send("payment-link", ref, "Expired")).toBe("stale");
    const stored = await storedObject(KINDS["payment-link"], ref);
    expect(stored.state).toEqual({ status: "Success", terminal: 1 });
    expect(stored.events.map((e) => [e.status, e.outcome, e.previous_status])).toEqual([
      ["Created", "accepted", null],
      ["Processing", "accepted", "Created"],
      ["Success", "accepted", "Processing"],
      ["Processing", "stale", "Success"],
      ["Expired", "stale", "Success"],
    ]);
  });

  it("a Success after Expired is recorded but does not change the state", async () => {
    const ref = uniqueRef("expired");
    expect(await send("payment-link", ref, "Created")).toBe("accepted");
    expect(await send("payment-link", ref, "Expired")).toBe("accepted");
    expect(await send("payment-link", ref, "Success")).toBe("stale");
    expect((await storedObject(KINDS["payment-link"], ref)).state?.status).toBe("Expired");
  });

  it("a Created that arrives after Processing is stale (it would move the object backwards)", async () => {
    const ref = uniqueRef("backwards");
    expect(await send("payment-link", ref, "Processing")).toBe("accepted");
    expect(await send("payment-link", ref, "Created")).toBe("stale");
  });

  it("a status the spec does not list is accepted as a non-terminal step", async () => {
    const ref = uniqueRef("unlisted");
    expect(await send("payment-link", ref, "Created")).toBe("accepted");
    expect(await send("payment-link", ref, "OnHold")).toBe("accepted");
    expect(await send("payment-link", ref, "Success")).toBe("accepted");
    expect((await storedObject(KINDS["payment-link"], ref)).state).toEqual({ status: "Success", terminal: 1 });
  });

  it("terminal statuses are recognised whatever their letter case (cancelled vs Cancelled)", async () => {
    const ref = uniqueRef("case");
    expect(await send("payment-link", ref, "cancelled")).toBe("accepted");
    expect(await send("payment-link", ref, "Created")).toBe("stale");
  });
});

describe("payment and subscription lifecycles", () => {
  it("a payment's Failed after Success is stale (never undo a payment)", async () => {
    const ref = uniqueRef("pay");
    expect(await send("payment", ref, "Pending")).toBe("accepted");
    expect(await send("payment", ref, "Success")).toBe("accepted");
    expect(await send("payment", ref, "Failed")).toBe("stale");
    expect(await send("payment", ref, "Pending")).toBe("duplicate");
    expect(await send("payment", ref, "Pending", { amount: 1 })).toBe("stale");
  });

  it("a subscription goes Created, Active, Completed; a second Active with the same signed fields is the same event; nothing after Completed", async () => {
    const ref = uniqueRef("sub");
    expect(await send("subscription-link", ref, "Created")).toBe("accepted");
    expect(await send("subscription-link", ref, "Active", { collected_count: 1 })).toBe("accepted");
    // §6.3: only currency, merchant_order_ref, order_ref and status are signed; a charge's count is not.
    expect(await send("subscription-link", ref, "Active", { collected_count: 2 })).toBe("duplicate");
    expect(await send("subscription-link", ref, "Completed")).toBe("accepted");
    expect(await send("subscription-link", ref, "Active", { collected_count: 3 })).toBe("duplicate");
    expect(await send("subscription-link", ref, "Active", { merchant_order_ref: "other" })).toBe("stale");
  });

  it("kinds never collide: a payment and a subscription with the same order_ref are two objects", async () => {
    const ref = uniqueRef("shared");
    expect(await send("payment", ref, "Success")).toBe("accepted");
    expect(await send("subscription-link", ref, "Created")).toBe("accepted");
    expect((await storedObject(KINDS.payment, ref)).events).toHaveLength(1);
    expect((await storedObject(KINDS["subscription-link"], ref)).events).toHaveLength(1);
  });
});

describe("durability", () => {
  it("state and history survive eviction of the Durable Object", async () => {
    const ref = uniqueRef("evict");
    expect(await send("payment-link", ref, "Created")).toBe("accepted");
    expect(await send("payment-link", ref, "Success")).toBe("accepted");
    const stub = ledgerOf(KINDS["payment-link"], ref);
    await evictDurableObject(stub);
    expect(await send("payment-link", ref, "Processing")).toBe("stale");
    await evictDurableObject(stub);
    const stored = await storedObject(KINDS["payment-link"], ref);
    expect(stored.state).toEqual({ status: "Success", terminal: 1 });
    expect(stored.events).toHaveLength(3);
  });

  it("migrations are applied once and recorded", async () => {
    const ref = uniqueRef("migrate");
    expect(await send("payment", ref, "Pending")).toBe("accepted");
    const stub = ledgerOf(KINDS.payment, ref);
    await evictDurableObject(stub);
    const versions = await runInDurableObject(stub, (_i, state) =>
      state.storage.sql
        .exec<{ version: number }>("SELECT version FROM schema_migrations")
        .toArray()
        .map((r) => r.version),
    );
    // A new object gets the latest schema in one step (fresh-schema.ts), recorded as its version.
    expect(versions).toEqual([MIGRATIONS.at(-1)?.version]);
    expect(versions).toEqual([14]);
  });
});

describe("decide (pure)", () => {
  const created = { rank: 0, terminal: false };
  const processing = { rank: 1, terminal: false };
  const success = { rank: null, terminal: true };
  const unlisted = { rank: null, terminal: false };

  it("accepts the first event whatever it is", () => {
    expect(decide(null, success)).toBe("accepted");
    expect(decide(null, unlisted)).toBe("accepted");
  });

  it("an unlisted status keeps the rank reached, so a backwards known status is still stale", () => {
    const afterProcessing = advance(advance(null, "Created", created), "Processing", processing);
    const afterUnlisted = advance(afterProcessing, "OnHold", unlisted);
    expect(afterUnlisted).toEqual({ status: "OnHold", rank: 1, terminal: false });
    expect(decide(afterUnlisted, created)).toBe("stale");
    expect(decide(afterUnlisted, processing)).toBe("accepted");
  });
});
