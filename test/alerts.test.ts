// Alerts (design: "Alerts"): each kind opens and resolves on its condition, is kept as state in the
// alerts Durable Object, and notifies every ALERTS target (a Slack receiver, a Standard Webhooks
// receiver verified with the standardwebhooks library, and Cloudflare Email's local simulation) once
// when it opens, at most once an hour while open, and once when it resolves; a failing target is
// retried; no notification carries a secret or a customer's data.
import { presigned } from "../src/egress/deliver";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { alertStore } from "../src/alerts/report";
import { parseAlerts } from "../src/config/alerts";
import { forwardUnderLease } from "../src/egress/gate-lease";
import { adminFetch } from "./admin-helpers";
import { KINDS, deliver, eventFor, ledgerOf, post, resultOf, uniqueRef } from "./helpers";
import { fakePortOne, installFakePortOne, paymentContent } from "./portone-stand-in";
import { SILENT, webhook } from "./reconcile-helpers";
import { alertReceivers, origin, testClock, type Received } from "./stand-ins";

const OPS_SECRET = "whsec_b3BzLWFsZXJ0cy1zZWNyZXQtMDEyMzQ1Njc=";
const request = presigned({ url: "https://merchant.test/webhooks/alerted", headers: {}, body: "{}", timeoutMs: 1000 });
const noLimits = { maxPerSecond: null, maxConcurrency: null };

interface StandardAlert {
  id: string;
  type: string;
  created_at: string;
  data: Record<string, unknown> & { key: string; state: string; count: number; console_url: string | null };
}

/** What the receivers got about one alert key: Slack texts and verified Standard Webhooks bodies. */
function notified(key: string): { slack: string[]; ops: StandardAlert[] } {
  const subject = key.slice(key.indexOf(":") + 1);
  const slack = alertReceivers.received
    .filter((r) => r.url.endsWith("/slack"))
    .map((r) => (JSON.parse(r.body) as { text: string }).text)
    .filter((text) => text.includes(subject));
  const ops = alertReceivers.received
    .filter((r) => r.url.endsWith("/ops"))
    .map((r: Received) => new Webhook(OPS_SECRET).verify(r.body, r.headers) as StandardAlert)
    .filter((n) => n.data.key === key);
  return { slack, ops };
}

/** Runs the alerts object's alarm until nothing is due now. */
async function sendAlerts(): Promise<void> {
  for (let i = 0; i < 5 && (await runDurableObjectAlarm(alertStore(env))); i++);
}

async function alert(key: string) {
  return (await alertStore(env).list()).find((a) => a.key === key);
}

async function breakDestination(name: string): Promise<void> {
  origin.answer(() => new Response(null, { status: 500 }));
  for (let i = 0; i < 5; i++) await forwardUnderLease(env, name, noLimits, request, null);
}

beforeEach(() => {
  vi.spyOn(console, "warn").mockImplementation(() => undefined);
  vi.spyOn(console, "error").mockImplementation(() => undefined);
});

describe("destination.breaker_open", () => {
  it("opens when the breaker opens and resolves when it closes, notifying each target once each way", async () => {
    const name = uniqueRef("down");
    const key = `destination.breaker_open:${name}`;
    await breakDestination(name);
    expect(await alert(key)).toMatchObject({ kind: "destination.breaker_open", severity: "critical", state: "open" });
    // More events meanwhile, and a failed probe: still one alert, and no second notification.
    testClock.advance(30_000);
    await forwardUnderLease(env, name, noLimits, request, null);
    await sendAlerts();
    let got = notified(key);
    expect(got.slack).toHaveLength(1);
    expect(got.slack[0]).toMatch(new RegExp(`critical.*destination\\.breaker_open.*${name}`));
    expect(got.ops.map((n) => [n.type, n.data.state])).toEqual([["gateway.alert.opened", "open"]]);
    expect(got.ops[0]?.data).toMatchObject({ key, kind: "destination.breaker_open", severity: "critical" });
    expect(got.ops[0]?.data.console_url).toBe("https://gateway.test/console/alerts");

    origin.answer(() => new Response(null, { status: 204 }));
    testClock.advance(30_000);
    expect(await forwardUnderLease(env, name, noLimits, request, null)).toMatchObject({ sent: true });
    expect(await alert(key)).toMatchObject({ state: "resolved" });
    await sendAlerts();
    got = notified(key);
    expect(got.slack).toHaveLength(2);
    expect(got.slack[1]).toMatch(/resolved/i);
    expect(got.ops.map((n) => n.type)).toEqual(["gateway.alert.opened", "gateway.alert.resolved"]);
    // The e-mail target was sent both through Cloudflare Email (its local simulation).
    const mails = await runInDurableObject(alertStore(env), (_i, state) =>
      state.storage.sql
        .exec<{ state: string }>(
          "SELECT state FROM notifications WHERE target = 'mail' AND json_extract(alert, '$.key') = ?",
          key,
        )
        .toArray(),
    );
    expect(mails.map((m) => m.state)).toEqual(["sent", "sent"]);
  });
});

describe("notifications", () => {
  it("remind at most once an hour while an alert stays open, with its count", async () => {
    const name = uniqueRef("hourly");
    const key = `destination.breaker_open:${name}`;
    await breakDestination(name);
    for (let i = 0; i < 10; i++) {
      testClock.advance(5 * 60_000);
      await alertStore(env).raise({ kind: "destination.breaker_open", subject: name });
    }
    await sendAlerts();
    expect(notified(key).ops).toHaveLength(1); // 50 minutes: no reminder yet
    testClock.advance(15 * 60_000);
    await alertStore(env).raise({ kind: "destination.breaker_open", subject: name });
    await sendAlerts();
    const ops = notified(key).ops;
    expect(ops.map((n) => n.type)).toEqual(["gateway.alert.opened", "gateway.alert.opened"]);
    expect(ops[1]?.data.count).toBe(16);
  });

  it("are retried when a target fails, and none is lost", async () => {
    const name = uniqueRef("retried");
    const key = `destination.breaker_open:${name}`;
    alertReceivers.answer((r) => new Response(null, { status: r.url.endsWith("/slack") ? 503 : 204 }));
    await breakDestination(name);
    await sendAlerts();
    expect(notified(key).ops).toHaveLength(1);
    const failed = alertReceivers.received.filter((r) => r.url.endsWith("/slack")).length;
    expect(failed).toBeGreaterThanOrEqual(1);
    alertReceivers.answer(() => new Response(null, { status: 204 }));
    testClock.advance(10 * 60_000);
    await sendAlerts();
    const slack = alertReceivers.received.filter((r) => r.url.endsWith("/slack"));
    expect(slack.length).toBe(failed + 1);
    expect(notified(key).ops).toHaveLength(1); // the other target is not sent it again
  });

  it("carry no secret, token, signature or customer data", async () => {
    const ref = uniqueRef("private");
    await webhook("payment", ref, "Pending", { customer_email: "buyer@example.com", customer_name: "Buyer" });
    origin.answer(() => new Response("card 4111 of buyer@example.com refused", { status: 500 }));
    const name = uniqueRef("secrets");
    await breakDestination(name);
    await post("/webhooks/portone/payment", { order_ref: ref, status: "Success", signature_hash: "x".repeat(44) });
    await sendAlerts();
    const everything = alertReceivers.received.map((r) => `${JSON.stringify(r.headers)} ${r.body}`).join("\n");
    const mail = await runInDurableObject(alertStore(env), (_i, state) =>
      state.storage.sql.exec<{ alert: string }>("SELECT alert FROM notifications").toArray(),
    );
    for (const text of [everything, JSON.stringify(mail)]) {
      for (const secret of [
        "PORTONE_SECRET",
        "test-admin-token",
        "test-portone-key",
        "whsec_",
        "buyer@example.com",
        "Buyer",
        "4111",
      ])
        expect(text).not.toContain(secret);
    }
  });
});

describe("ingest.signature_failures", () => {
  it("opens on a burst of bad signatures on one route: one alert, one notification per target", async () => {
    const route = "/webhooks/portone/payment-link";
    const key = `ingest.signature_failures:${route}`;
    const before = (await alert(key))?.count ?? 0;
    for (let i = 0; i < 19; i++) {
      const forged = await eventFor("payment-link", uniqueRef("forged"), "Created");
      expect((await post(route, { ...forged, signature_hash: "A".repeat(43) + "=" })).status).toBe(401);
    }
    expect((await alert(key))?.state === "open" && (await alert(key))?.count !== before).toBe(false);
    for (let i = 0; i < 81; i++)
      expect(
        (await post(route, { link_ref: "x", status: "Created", signature_hash: "B".repeat(43) + "=" })).status,
      ).toBe(401);
    await vi.waitFor(async () => expect(await alert(key)).toMatchObject({ state: "open", severity: "warning" }));
    await sendAlerts();
    expect(notified(key).ops).toHaveLength(1);
    expect(notified(key).slack).toHaveLength(1);
    // Resolved by quiet: 15 minutes without one.
    testClock.advance(16 * 60_000);
    await sendAlerts();
    expect(await alert(key)).toMatchObject({ state: "resolved" });
    expect(notified(key).ops.map((n) => n.type)).toEqual(["gateway.alert.opened", "gateway.alert.resolved"]);
  });
});

describe("delivery.dead_letter", () => {
  it("counts dead letters at a destination and resolves when none is left there", async () => {
    const ref = uniqueRef("dead");
    origin.answer(() => new Response(null, { status: 400 }));
    expect(await resultOf(await deliver("payment", await eventFor("payment", ref, "Pending")))).toBe("accepted");
    for (let i = 0; i < 20; i++) {
      await runDurableObjectAlarm(ledgerOf(KINDS.payment, ref));
      const report = await ledgerOf(KINDS.payment, ref).inspect();
      if (report.deliveries.some((d) => d.state === "dead")) break;
      testClock.advance(16 * 3600 * 1000); // past the longest retry delay with its jitter
    }
    const key = "delivery.dead_letter:default";
    expect(await alert(key)).toMatchObject({ state: "open", kind: "delivery.dead_letter" });
    origin.answer(() => new Response(null, { status: 204 }));
    expect(await ledgerOf(KINDS.payment, ref).redeliver({ state: "dead" })).toHaveLength(1);
    const now = await alert(key);
    // Other tests' dead letters at `default` may still be counted; this one was cleared.
    expect(now?.state === "resolved" || (now?.count ?? 0) >= 1).toBe(true);
  });
});

describe("reconcile.*", () => {
  it("opens missed_webhook when a pass learns a status no webhook brought, and auth_failed on refused credentials", async () => {
    installFakePortOne();
    const ref = uniqueRef("missed");
    expect(await webhook("payment", ref, "Pending")).toBe("accepted");
    fakePortOne.payments.set(ref, paymentContent(ref, "Success", 500));
    testClock.advance(SILENT);
    expect(await (await adminFetch("/reconcile", { method: "POST" })).json<object>()).toMatchObject({ changed: 1 });
    expect(await alert("reconcile.missed_webhook:portone")).toMatchObject({ state: "open", severity: "warning" });

    const other = uniqueRef("refused");
    await webhook("payment", other, "Pending");
    fakePortOne.misbehaving = "auth";
    testClock.advance(SILENT);
    await adminFetch("/reconcile", { method: "POST" });
    expect(await alert("reconcile.auth_failed:portone")).toMatchObject({ state: "open", severity: "critical" });
    fakePortOne.misbehaving = null;
    testClock.advance(SILENT);
    await adminFetch("/reconcile", { method: "POST" });
    expect(await alert("reconcile.auth_failed:portone")).toMatchObject({ state: "resolved" });
    // missed_webhook resolves after 24 h without another.
    testClock.advance(25 * 60 * 60_000);
    await sendAlerts();
    expect(await alert("reconcile.missed_webhook:portone")).toMatchObject({ state: "resolved" });
  });
});

describe("operators", () => {
  it("list alerts with GET /admin/alerts?state=open|resolved", async () => {
    const name = uniqueRef("listed");
    await adminFetch(`/destinations/erp/pause`, { method: "POST" });
    await breakDestination(name);
    const open = await (await adminFetch("/alerts?state=open")).json<{ alerts: Array<Record<string, unknown>> }>();
    const keys = open.alerts.map((a) => a.key);
    expect(keys).toContain(`destination.breaker_open:${name}`);
    expect(keys).toContain("destination.paused:erp");
    expect(Object.keys(open.alerts[0] ?? {}).sort()).toEqual(
      ["count", "key", "kind", "last_at", "message", "opened_at", "resolved_at", "severity", "state"].sort(),
    );
    await adminFetch(`/destinations/erp/resume`, { method: "POST" });
    const resolved = await (await adminFetch("/alerts?state=resolved")).json<{ alerts: Array<{ key: string }> }>();
    expect(resolved.alerts.map((a) => a.key)).toContain("destination.paused:erp");
    expect((await adminFetch("/alerts?state=maybe")).status).toBe(400);
  });
});

describe("ALERTS", () => {
  it("is validated once, naming the bad key", () => {
    expect(parseAlerts('{"slack": {"format": "slack", "url": "ftp://x"}}')).toMatchObject({
      ok: false,
      error: { key: "ALERTS.slack.url" },
    });
    expect(parseAlerts('{"ops": {"format": "standard", "url": "https://ops.test", "secret": "nope"}}')).toMatchObject({
      ok: false,
      error: { key: "ALERTS.ops.secret" },
    });
    expect(parseAlerts('{"m": {"format": "pager"}}')).toMatchObject({ ok: false, error: { key: "ALERTS.m.format" } });
    expect(parseAlerts("{")).toMatchObject({ ok: false, error: { key: "ALERTS" } });
  });

  it("when invalid changes nothing for providers, and the console and the API say so", async () => {
    const broken = { ...env, ALERTS: '{"slack": {"format": "slack"}}' };
    const { default: worker } = await import("../src/index");
    const { createExecutionContext } = await import("cloudflare:test");
    const body = JSON.stringify(await eventFor("payment", uniqueRef("unaffected"), "Pending"));
    const response = await worker.fetch(
      new Request("https://gateway.test/webhooks/portone/payment", { method: "POST", body }),
      broken,
      createExecutionContext(),
    );
    expect(await response.json()).toEqual({ result: "accepted" });
    const listed = await worker.fetch(
      new Request("https://gateway.test/admin/alerts", { headers: { authorization: "Bearer test-admin-token" } }),
      broken,
      createExecutionContext(),
    );
    expect(await listed.json()).toMatchObject({ problem: expect.stringContaining("ALERTS.slack.url") as unknown });
  });
});
