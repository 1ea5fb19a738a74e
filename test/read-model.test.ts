// The read model (D1): written by each ledger's alarm from what changed in its own storage,
// idempotently, trailing the ledger; a D1 outage delays it and nothing else. Searched, counted and
// used for bulk redelivery through the operator API.
import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import type { Snapshot } from "../src/readmodel/rows";
import { readModelWriter } from "../src/readmodel/writer";
import { adminFetch } from "./admin-helpers";
import { objectRowOf } from "./snapshots";
import { KINDS, deliver, eventFor, ledgerOf, resultOf, uniqueRef } from "./helpers";
import { envelope, origin, testClock } from "./stand-ins";

const PAYMENT = KINDS.payment;

interface Listed {
  event_id: string;
  type: string;
  status: string;
  outcome: string;
  delivery: string | null;
  object_ref: string;
  merchant_order_ref: string | null;
  attempts: number;
  received_at: string;
}

async function listed(query: string): Promise<{ events: Listed[]; next_cursor: string | null }> {
  const response = await adminFetch(`/events?${query}`);
  expect(response.status).toBe(200);
  return response.json();
}

async function send(ref: string, status: string, extra: Record<string, unknown> = {}): Promise<void> {
  expect(await resultOf(await deliver("payment", await eventFor("payment", ref, status, extra)))).not.toMatch(/^error/);
}

describe("the read model", () => {
  it("lists an event once its ledger's alarm ran, with its delivery state, by object ref, merchant_order_ref or id", async () => {
    const [ref, merchantRef] = [uniqueRef("rm"), uniqueRef("shop-order")];
    await send(ref, "Pending", { merchant_order_ref: merchantRef });
    expect((await listed(`q=${ref}`)).events).toEqual([]);
    expect(await runDurableObjectAlarm(ledgerOf(PAYMENT, ref))).toBe(true);
    const byRef = (await listed(`q=${ref}`)).events;
    expect(byRef).toMatchObject([
      { type: "portone.payment.pending", status: "Pending", outcome: "accepted", delivery: "delivered", attempts: 1 },
    ]);
    expect((await listed(`q=${merchantRef}`)).events.map((e) => e.event_id)).toEqual([byRef[0]?.event_id]);
    expect((await listed(`q=${byRef[0]?.event_id}`)).events).toHaveLength(1);
    // No payloads: only ids, statuses, times and counts.
    expect(Object.keys(byRef[0] ?? {})).not.toContain("data");
  });

  it("lists stale events too, newest first, and pages with a cursor", async () => {
    const ref = uniqueRef("rm-page");
    for (const status of ["Pending", "Success", "Failed"]) {
      await send(ref, status);
      testClock.advance(1000);
    }
    while (await runDurableObjectAlarm(ledgerOf(PAYMENT, ref)));
    const first = await listed(`q=${ref}&limit=2`);
    expect(first.events.map((e) => [e.status, e.outcome])).toEqual([
      ["Failed", "stale"],
      ["Success", "accepted"],
    ]);
    expect(first.next_cursor).not.toBeNull();
    const second = await listed(`q=${ref}&limit=2&cursor=${first.next_cursor}`);
    expect(second.events.map((e) => e.status)).toEqual(["Pending"]);
    expect(second.next_cursor).toBeNull();
    expect((await listed(`q=${ref}&status=success`)).events).toHaveLength(1);
    expect((await listed(`q=${ref}&delivery=delivered`)).events).toHaveLength(2);
  });

  it("applying a snapshot twice, or an older one after a newer, changes nothing", async () => {
    const ref = uniqueRef("rm-idem");
    const object = `portone:payment:${ref}`;
    const row = (status: string, version: number): Snapshot => ({
      version,
      object: objectRowOf(ref, { status, first_seen_at: 1, last_seen_at: 1 }),
      events: [],
    });
    const writer = readModelWriter(env);
    for (const snapshot of [row("Success", 5), row("Success", 5), row("Pending", 3)])
      expect(await writer.apply(snapshot)).toEqual({ ok: true });
    const stored = await env.READ_MODEL.prepare("SELECT status, version FROM objects WHERE object = ?")
      .bind(object)
      .all();
    expect(stored.results).toEqual([{ status: "Success", version: 5 }]);
  });

  it("a D1 outage delays the index, never the acknowledgement or the delivery; it catches up", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const ref = uniqueRef("rm-down");
    await env.READ_MODEL.exec("ALTER TABLE events RENAME TO events_away");
    try {
      await send(ref, "Success");
      expect(await runDurableObjectAlarm(ledgerOf(PAYMENT, ref))).toBe(true);
      expect(origin.acknowledged.map((r) => envelope(r).object_ref)).toEqual([ref]);
    } finally {
      await env.READ_MODEL.exec("ALTER TABLE events_away RENAME TO events");
    }
    expect((await listed(`q=${ref}`)).events).toEqual([]);
    testClock.advance(30_000);
    expect(await runDurableObjectAlarm(ledgerOf(PAYMENT, ref))).toBe(true);
    expect((await listed(`q=${ref}`)).events).toMatchObject([{ status: "Success", delivery: "delivered" }]);
  });

  it("refuses a bad filter or cursor with 400", async () => {
    for (const query of ["delivery=lost", "since=yesterday", "limit=0", "limit=500", "cursor=%%%"]) {
      const response = await adminFetch(`/events?${query}`);
      expect(response.status).toBe(400);
    }
  });
});

describe("stats and bulk redelivery", () => {
  it("counts what arrived since a time", async () => {
    testClock.advance(Math.floor(Math.random() * 1e12)); // a window no other test writes in
    const since = testClock.now;
    const [a, b] = [uniqueRef("st"), uniqueRef("st")];
    await send(a, "Pending");
    await send(a, "Success");
    await send(a, "Failed");
    await send(b, "Pending");
    expect(await runDurableObjectAlarm(ledgerOf(PAYMENT, a))).toBe(true);
    origin.answer(() => new Response(null, { status: 500 }));
    expect(await runDurableObjectAlarm(ledgerOf(PAYMENT, b))).toBe(true);
    const stats = await (await adminFetch(`/stats?since=${since}`)).json();
    expect(stats).toMatchObject({ accepted: 3, stale: 1, delivered: 2, pending: 1, dead: 0 });
    expect((stats as { oldest_pending_at: string | null }).oldest_pending_at).not.toBeNull();
  });

  it("re-sends every matching accepted event, in each object's order, with its original webhook-id", async () => {
    const ref = uniqueRef("bulk");
    await send(ref, "Pending");
    await send(ref, "Success");
    await send(ref, "Failed"); // stale: never forwarded, never redelivered
    while (await runDurableObjectAlarm(ledgerOf(PAYMENT, ref)));
    const first = origin.acknowledged.map((r) => r.headers["webhook-id"]);
    expect(first).toHaveLength(2);
    const response = await adminFetch("/redeliver", { method: "POST", body: JSON.stringify({ q: ref }) });
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ requeued: 2 });
    while (await runDurableObjectAlarm(ledgerOf(PAYMENT, ref)));
    expect(origin.acknowledged.map((r) => r.headers["webhook-id"])).toEqual([...first, ...first]);
    expect(origin.acknowledged.slice(2).map((r) => envelope(r).status)).toEqual(["Pending", "Success"]);
  });

  it("refuses a redelivery without a filter", async () => {
    const response = await adminFetch("/redeliver", { method: "POST", body: "{}" });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: "filter_required" });
  });
});
