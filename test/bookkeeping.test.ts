// What a delivered event costs in the ledger's SQLite (rows written, counted by SQLite's own
// total_changes(), which also sees the alarm the runtime keeps in the same database), and that the
// cheaper records keep what the dearer ones told: a retry is recorded before its request, failed
// attempts stay in the history, a redelivery keeps the first delivery, the read model is written once.
import { createExecutionContext, evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import worker from "../src/index";
import { gateFor } from "../src/egress/gate";
import { ledgerFor } from "../src/ledger/client";
import { ledgerOf, referenceHmac, resultOf, uniqueRef } from "./helpers";
import { envelope, holdingOrigin, origin, testClock } from "./stand-ins";
import { LINK, accept, after } from "./delivery-helpers";

const rowsWritten = (stub: DurableObjectStub) =>
  runInDurableObject(stub, (_i, state) => state.storage.sql.exec<{ n: number }>("SELECT total_changes() AS n").one().n);

async function sendFanout(ref: string, status: string): Promise<string> {
  return sendBody(JSON.stringify({ id: ref, status }));
}

async function sendBody(body: string): Promise<string> {
  const signature = [...(await referenceHmac("fanout-test-secret-0123456789", body))]
    .map((b) => b.toString(16).padStart(2, "0"))
    .join("");
  const request = new Request("https://gateway.test/webhooks/hmac/fanout", {
    method: "POST",
    body,
    headers: { "x-signature": signature },
  });
  return resultOf(await worker.fetch(request, env, createExecutionContext()));
}

describe("rows written per delivered event", () => {
  it("one destination: at most 4 (event, alarm set, delivered, alarm cleared), no gate request under a lease", async () => {
    const ref = uniqueRef("rows");
    const stub = ledgerOf(LINK, ref);
    await accept("payment-link", ref, "Created");
    await after(0, ref);
    const asked = (await gateFor(env, "default").state()).asked_since_start;
    const before = await rowsWritten(stub);
    await accept("payment-link", ref, "Processing");
    expect(await after(0, ref)).toBe(true);
    expect((await rowsWritten(stub)) - before).toBeLessThanOrEqual(4);
    expect((await gateFor(env, "default").state()).asked_since_start - asked).toBe(0);
    expect(origin.acknowledged.map((r) => envelope(r).status)).toEqual(["Created", "Processing"]);
  });

  it("a destination with limits: one gate request per lease, not per forward", async () => {
    const refs = Array.from({ length: 10 }, () => uniqueRef("leased"));
    const asked = (await gateFor(env, "limited").state()).asked_since_start;
    for (const ref of refs) {
      expect(await sendFanout(ref, "limited")).toBe("accepted");
      while (await runDurableObjectAlarm(ledgerFor(env, "fanout", "order", ref)));
    }
    expect(origin.acknowledged.filter((r) => r.url.endsWith("/limited"))).toHaveLength(10);
    expect((await gateFor(env, "limited").state()).asked_since_start - asked).toBeLessThanOrEqual(2);
  });

  it("three destinations: at most 4 for the first, one more per other destination", async () => {
    const ref = uniqueRef("rows3");
    const stub = ledgerFor(env, "fanout", "order", ref);
    expect(await sendFanout(ref, "created")).toBe("accepted");
    while (await runDurableObjectAlarm(stub));
    const before = await rowsWritten(stub);
    expect(await sendFanout(ref, "paid")).toBe("accepted"); // default, erp and analytics take it
    while (await runDurableObjectAlarm(stub));
    const paid = origin.acknowledged.filter((r) => envelope(r).status === "paid");
    expect(paid).toHaveLength(3);
    // The event row and the alarm's set and clear, then one row per destination.
    expect((await rowsWritten(stub)) - before).toBeLessThanOrEqual(3 + paid.length);
  });
});

describe("the cheaper records", () => {
  it("show a retry in flight before the origin has answered (a first attempt is written when it ends)", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const ref = uniqueRef("inflight");
    origin.answer(() => new Response(null, { status: 503 }));
    await accept("payment-link", ref, "Created");
    await after(0, ref);
    const held = holdingOrigin();
    testClock.advance(10_000);
    const run = runDurableObjectAlarm(ledgerOf(LINK, ref));
    await held.inFlight;
    const during = await runInDurableObject(ledgerOf(LINK, ref), (_i, state) =>
      state.storage.sql
        .exec<{ n: number }>("SELECT count(*) AS n FROM outbox WHERE attempt_started_at IS NOT NULL")
        .one(),
    );
    expect(during.n).toBe(1); // written before the request, visible while it is out
    held.release();
    await run;
    const report = await ledgerOf(LINK, ref).inspect();
    expect(report.attempts.map((a) => a.outcome)).toEqual(["failed", "delivered"]);
  });

  it("keep failed attempts, and a delivery that a redelivery replaces", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const ref = uniqueRef("history");
    origin.answer(() => new Response(null, { status: 503 }));
    await accept("payment-link", ref, "Created");
    await after(0, ref);
    origin.answer(() => new Response(null, { status: 200 }));
    await after(10_000, ref);
    const stub = ledgerOf(LINK, ref);
    const [first] = (await stub.inspect()).events.map((e) => e.event_id as string);
    expect(await stub.redeliver({ eventIds: [first as string] })).toEqual([first]);
    await after(0, ref);
    const report = await stub.inspect();
    expect(report.attempts.map((a) => [a.outcome, a.http_status])).toEqual([
      ["failed", 503],
      ["delivered", 200],
      ["delivered", 200],
    ]);
    expect(report.deliveries).toMatchObject([{ state: "delivered", attempts_this_cycle: 1 }]);
  });

  it("after a restart, send the read model what changed since the checkpoint without rewriting its rows", async () => {
    const ref = uniqueRef("resend");
    await accept("payment-link", ref, "Created");
    await after(0, ref);
    const count = () =>
      env.READ_MODEL.prepare("SELECT count(*) AS n FROM events WHERE object_ref = ?").bind(ref).first<{ n: number }>();
    expect((await count())?.n).toBe(1);
    // The checkpoint lags the in-memory cursor; a new instance starts from it and sends the first
    // event again, which D1 must not write again (a trigger counts the writes to its row).
    const db = env.READ_MODEL;
    await db.exec("CREATE TABLE IF NOT EXISTS resend_writes (n INTEGER NOT NULL)");
    await db
      .prepare(
        `CREATE TRIGGER IF NOT EXISTS resend_${ref.replace(/\W/g, "_")} AFTER UPDATE ON events
         WHEN new.object_ref = '${ref}' AND new.status = 'Created' BEGIN INSERT INTO resend_writes VALUES (1); END`,
      )
      .run();
    await evictDurableObject(ledgerOf(LINK, ref));
    await accept("payment-link", ref, "Processing");
    await after(0, ref);
    const rows = await env.READ_MODEL.prepare(
      "SELECT status, delivery, attempts FROM events WHERE object_ref = ? ORDER BY seq",
    )
      .bind(ref)
      .all();
    expect(rows.results).toEqual([
      { status: "Created", delivery: "delivered", attempts: 1 },
      { status: "Processing", delivery: "delivered", attempts: 1 },
    ]);
    expect(await db.prepare("SELECT count(*) AS n FROM resend_writes").first<{ n: number }>()).toEqual({ n: 0 });
  });
});

describe("one run's share", () => {
  it("a long backlog for one destination does not hold another's event for the runs it takes to drain", async () => {
    const ref = uniqueRef("share");
    const stub = ledgerFor(env, "fanout", "order", ref);
    for (let n = 0; n < 30; n++) {
      const body = JSON.stringify({ id: ref, status: "created", n });
      expect(await sendBody(body)).toBe("accepted"); // default and analytics
    }
    expect(await sendBody(JSON.stringify({ id: ref, status: "paid" }))).toBe("accepted"); // erp too
    expect(await runDurableObjectAlarm(stub)).toBe(true); // one run
    expect(origin.acknowledged.filter((r) => r.url.endsWith("/erp")).map((r) => envelope(r).status)).toEqual(["paid"]);
    while (await runDurableObjectAlarm(stub));
    expect(origin.acknowledged.filter((r) => r.url.endsWith("/analytics"))).toHaveLength(31);
  });
});
