// GET /admin/metrics (the Prometheus text format, agreeing with /admin/stats and /admin/destinations;
// refused webhooks counted durably in batches) and the audit log of operator actions (GET /admin/audit).
import { createExecutionContext, runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import worker from "../src/index";
import { alertStore } from "../src/alerts/report";
import { adminFetch, TOKEN } from "./admin-helpers";
import { BASE, KINDS, deliver, eventFor, ledgerOf, uniqueRef } from "./helpers";

/** Every sample of a family, as label text to value. */
function samples(text: string, name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    const m = new RegExp(`^${name}(\\{[^}]*\\})? (\\S+)$`).exec(line);
    if (m) out.set(m[1] ?? "", Number(m[2]));
  }
  return out;
}

describe("GET /admin/metrics", () => {
  it("answers the text format with HELP and TYPE for every family, agreeing with /admin/stats", async () => {
    const ref = uniqueRef("metrics");
    await deliver("payment", await eventFor("payment", ref, "Success"));
    await runDurableObjectAlarm(ledgerOf(KINDS.payment, ref));
    const response = await adminFetch("/metrics");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    for (const family of [
      "gateway_events_total",
      "gateway_deliveries",
      "gateway_oldest_pending_seconds",
      "gateway_breaker_open",
      "gateway_destination_paused",
      "gateway_alerts_open",
      "gateway_webhooks_rejected_total",
      "gateway_delivery_seconds",
    ]) {
      expect(text).toContain(`# HELP ${family} `);
      expect(text).toMatch(new RegExp(`# TYPE ${family} (counter|gauge|histogram)`));
    }
    const stats = await (await adminFetch("/stats?since=0")).json<{ accepted: number; stale: number }>();
    const events = samples(text, "gateway_events_total");
    const sum = (outcome: string) =>
      [...events].filter(([labels]) => labels.includes(`outcome="${outcome}"`)).reduce((a, [, n]) => a + n, 0);
    expect(sum("accepted")).toBe(stats.accepted);
    expect(sum("stale")).toBe(stats.stale);
    const deliveries = samples(text, "gateway_deliveries");
    for (const name of ["default", "erp", "limited", "analytics", "picky"])
      for (const state of ["pending", "delivered", "dead"])
        expect(deliveries.has(`{destination="${name}",state="${state}"}`)).toBe(true);
    expect(samples(text, "gateway_delivery_seconds_bucket").get('{destination="default",le="+Inf"}')).toBe(
      samples(text, "gateway_delivery_seconds_count").get('{destination="default"}'),
    );
  });

  it("counts refused webhooks by route pattern and reason, durably, with no token in a label", async () => {
    for (let i = 0; i < 3; i++)
      await worker.fetch(
        new Request(`${BASE}/webhooks/portone/payment`, { method: "POST", body: "{}" }),
        env,
        createExecutionContext(),
      );
    await worker.fetch(
      new Request(`${BASE}/webhooks/payment-options/jp/${"x".repeat(40)}`, { method: "POST", body: "{}" }),
      env,
      createExecutionContext(),
    );
    await vi.waitFor(
      async () => {
        const counted = await alertStore(env).rejections();
        expect(counted.find((r) => r.route === "/webhooks/portone/payment")?.n ?? 0).toBeGreaterThanOrEqual(3);
        expect(counted.some((r) => r.route === "/webhooks/payment-options/jp")).toBe(true);
      },
      { timeout: 5_000 },
    );
    const text = await (await adminFetch("/metrics")).text();
    expect(text).toMatch(
      /gateway_webhooks_rejected_total\{route="\/webhooks\/portone\/payment",reason="[a-z_]+"\} \d+/,
    );
    expect(text).not.toContain("x".repeat(40));
  });

  it("is closed without the admin token", async () => {
    expect((await adminFetch("/metrics", {}, null)).status).toBe(401);
  });
});

describe("the audit log", () => {
  it("records who paused and resumed a destination, and a bulk redelivery's filters and count", async () => {
    expect((await adminFetch("/destinations/erp/pause", { method: "POST" })).status).toBe(200);
    expect((await adminFetch("/destinations/erp/resume", { method: "POST" })).status).toBe(200);
    const bulk = await adminFetch("/redeliver", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ q: uniqueRef("nothing") }),
    });
    expect(bulk.status).toBe(202);
    const { entries } = await (
      await adminFetch("/audit?limit=3")
    ).json<{
      entries: Array<{ actor: string; action: string; target: string | null; result: string; details: unknown }>;
    }>();
    expect(entries.map((e) => e.action)).toEqual(["redeliver.bulk", "destination.resume", "destination.pause"]);
    expect(entries[1]).toMatchObject({ actor: "token", target: "erp", result: "ok" });
    expect(entries[0]?.details).toMatchObject({ requeued: 0 });
    const text = JSON.stringify(entries);
    expect(text).not.toContain(TOKEN);
  });

  it("folds failed console logins into one entry per source and minute, never keeping the token tried", async () => {
    const tried = `wrong-${uniqueRef("t")}`;
    for (let i = 0; i < 3; i++)
      await worker.fetch(
        new Request(`${BASE}/console/login`, {
          method: "POST",
          headers: {
            "content-type": "application/x-www-form-urlencoded",
            origin: BASE,
            "cf-connecting-ip": "203.0.113.9",
          },
          body: new URLSearchParams({ token: tried }).toString(),
        }),
        env,
        createExecutionContext(),
      );
    const { entries } = await (
      await adminFetch("/audit?limit=50")
    ).json<{
      entries: Array<{ actor: string; action: string; details: { count?: number; source?: string } | null }>;
    }>();
    const failed = entries.filter((e) => e.action === "console.login_failed" && e.details?.source === "203.0.113.9");
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ actor: "anonymous", details: { count: 3 } });
    expect(JSON.stringify(entries)).not.toContain(tried);
  });
});
