// Retention and the sweep of PortOne's payment list (design: "Reconciliation and retention").
// After RETENTION_DAYS a finished, settled object keeps only a tombstone: a replay of an old genuine
// body is stale or duplicate, never forwarded again. With PORTONE_ENVIRONMENT set, a payment PortOne
// lists that the gateway never heard of is recorded and forwarded as reconciled.
import { createExecutionContext, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import worker from "../src/index";
import { ledgerFor } from "../src/ledger/client";
import { KINDS, deliver, eventFor, ledgerOf, resultOf, uniqueRef } from "./helpers";
import { adminFetch, TOKEN } from "./admin-helpers";
import { testEnv } from "./env";
import { envelope, origin, testClock } from "./stand-ins";
import { fakePortOne, installFakePortOne, paymentContent } from "./portone-stand-in";

const DAY = 24 * 3600_000;

beforeEach(() => {
  installFakePortOne();
  vi.spyOn(console, "warn").mockImplementation(() => undefined);
});

describe("retention", () => {
  it("a finished object keeps a tombstone after RETENTION_DAYS: old bodies are never forwarded again", async () => {
    const ref = uniqueRef("old");
    const pending = await eventFor("payment", ref, "Pending");
    const success = await eventFor("payment", ref, "Success");
    for (const body of [pending, success]) expect(await resultOf(await deliver("payment", body))).toBe("accepted");
    const stub = ledgerOf(KINDS.payment, ref);
    while (await runDurableObjectAlarm(stub));
    expect(origin.acknowledged).toHaveLength(2);

    testClock.advance(89 * DAY);
    await adminFetch("/reconcile", { method: "POST" });
    expect((await stub.inspect()).purged_at).toBeNull(); // not yet
    testClock.advance(2 * DAY);
    await adminFetch("/reconcile", { method: "POST" });
    const report = await stub.inspect();
    expect(report.purged_at).not.toBeNull();
    expect(report.events.map((e) => e.status)).toEqual(["Success"]);
    expect(report.attempts).toEqual([]);
    const payload = await runInDurableObject(
      stub,
      (_i, state) => state.storage.sql.exec<{ data: string }>("SELECT data FROM events").one().data,
    );
    expect(payload).toBe("{}");
    const d1 = await env.READ_MODEL.prepare("SELECT count(*) AS n FROM events WHERE object_ref = ?")
      .bind(ref)
      .first<{ n: number }>();
    expect(d1?.n).toBe(0);

    // Replays of the old genuine bodies, past the KV hint's week: stale or duplicate, never forwarded.
    for (const key of (await env.SEEN.list({ prefix: "seen:" })).keys) await env.SEEN.delete(key.name);
    expect(await resultOf(await deliver("payment", pending))).toBe("stale");
    expect(await resultOf(await deliver("payment", success))).toBe("duplicate");
    while (await runDurableObjectAlarm(stub));
    expect(origin.acknowledged).toHaveLength(2);
  });

  it("an object with a dead letter is kept", async () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    const ref = uniqueRef("dead");
    origin.answer(() => new Response(null, { status: 500 }));
    await deliver("payment", await eventFor("payment", ref, "Success"));
    const stub = ledgerOf(KINDS.payment, ref);
    for (let i = 0; i < 40 && (await runDurableObjectAlarm(stub)); i++) testClock.advance(DAY);
    expect((await stub.inspect()).deliveries).toMatchObject([{ state: "dead" }]);
    testClock.advance(100 * DAY);
    await adminFetch("/reconcile", { method: "POST" });
    expect((await stub.inspect()).purged_at).toBeNull();
  });
});

describe("payments never heard of", () => {
  it("are recorded from PortOne's list when PORTONE_ENVIRONMENT is set, once", async () => {
    const [known, unknown] = [uniqueRef("known"), uniqueRef("unheard")];
    await deliver("payment", await eventFor("payment", known, "Success"));
    while (await runDurableObjectAlarm(ledgerOf(KINDS.payment, known)));
    fakePortOne.listed = [paymentContent(known, "Success"), paymentContent(unknown, "Success", 700)];
    const sandbox = testEnv({ PORTONE_ENVIRONMENT: "sandbox" });
    const pass = () =>
      worker.fetch(
        new Request("https://gateway.test/admin/reconcile", {
          method: "POST",
          headers: { authorization: `Bearer ${TOKEN}` },
        }),
        sandbox,
        createExecutionContext(),
      );
    expect((await pass()).status).toBe(200);
    while (await runDurableObjectAlarm(ledgerFor(env, "portone", "payment", unknown)));
    const sent = origin.acknowledged.map((r) => envelope(r)).filter((e) => e.object_ref === unknown);
    expect(sent.map((e) => [e.type, e.source, e.data.amount])).toEqual([
      ["portone.payment.success", "reconciliation", 700],
    ]);
    expect(fakePortOne.calls.filter((c) => c.endsWith("/fetch-all-payments"))).toHaveLength(1);
    // The window is remembered: the next pass asks for the time since, and records nothing twice.
    testClock.advance(5 * 60_000);
    expect((await pass()).status).toBe(200);
    while (await runDurableObjectAlarm(ledgerFor(env, "portone", "payment", unknown)));
    expect(origin.acknowledged.map((r) => envelope(r)).filter((e) => e.object_ref === unknown)).toHaveLength(1);
    const sweep = await env.READ_MODEL.prepare("SELECT window_from, window_to, next_page FROM reconcile_sweep").first();
    expect(sweep).toMatchObject({ window_to: null, next_page: 1 });
  });
});
