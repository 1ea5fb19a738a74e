// What operators are told, on a bad day for the alerts themselves: ALERTS invalid when an alert opens
// (announced once it is fixed, not only as "resolved"), a breaker flapping (one opened and one resolved,
// not twenty of each), alerts kept forever (pruned 30 days after they resolve), bad signatures spread
// over isolates (counted where they meet), and no GATEWAY_URL (links to the address last reached).
import {
  createExecutionContext,
  runDurableObjectAlarm,
  runInDurableObject,
  waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { beforeEach, describe, expect, it, vi } from "vitest";
import worker from "../src/index";
import type { Alerts } from "../src/alerts/alerts";
import { REOPEN_GRACE_MS } from "../src/alerts/alerts";
import { KEEP_MS } from "../src/alerts/notifications";
import { alertStore } from "../src/alerts/report";
import { uniqueRef } from "./helpers";
import { alertReceivers, testClock } from "./stand-ins";

const OPS_SECRET = "whsec_b3BzLWFsZXJ0cy1zZWNyZXQtMDEyMzQ1Njc=";

/** The notifications the ops receiver verified for one key, by type. */
function opsTypes(key: string): string[] {
  return alertReceivers.received
    .filter((r) => r.url.endsWith("/ops"))
    .map((r) => new Webhook(OPS_SECRET).verify(r.body, r.headers) as { type: string; data: { key: string } })
    .filter((n) => n.data.key === key)
    .map((n) => n.type);
}

async function sendAlerts(): Promise<void> {
  for (let i = 0; i < 5 && (await runDurableObjectAlarm(alertStore(env))); i++);
}

/** Runs `body` with the alerts object seeing other variables (as after a deploy that changed them). */
async function withAlertsEnv(overrides: Partial<Env>, body: () => Promise<void>): Promise<void> {
  const stub = alertStore(env);
  const set = (vars: Env) =>
    runInDurableObject(stub, (instance: Alerts) => {
      (instance as unknown as { env: Env }).env = vars;
    });
  await set({ ...env, ...overrides });
  try {
    await body();
  } finally {
    await set(env);
  }
}

beforeEach(() => {
  vi.spyOn(console, "warn").mockImplementation(() => undefined);
  vi.spyOn(console, "error").mockImplementation(() => undefined);
});

describe("alert notices", () => {
  it("an alert opened while ALERTS is invalid is announced as opened once ALERTS is fixed", async () => {
    const subject = uniqueRef("invalid");
    const key = `destination.paused:${subject}`;
    await withAlertsEnv({ ALERTS: '{"slack": {"format": "slack"}}' }, async () => {
      await alertStore(env).raise({ kind: "destination.paused", subject });
      await sendAlerts();
      expect(opsTypes(key)).toEqual([]);
    });
    testClock.advance(6 * 60_000);
    await sendAlerts();
    expect(opsTypes(key)).toEqual(["gateway.alert.opened"]);
    await alertStore(env).resolve(key);
    await sendAlerts();
    expect(opsTypes(key)).toEqual(["gateway.alert.opened", "gateway.alert.resolved"]);
  });

  it("a flapping alert notifies once opened and once resolved, not at every reopen", async () => {
    const subject = uniqueRef("flap");
    const key = `destination.breaker_open:${subject}`;
    for (let i = 0; i < 10; i++) {
      await alertStore(env).raise({ kind: "destination.breaker_open", subject });
      testClock.advance(15_000);
      await alertStore(env).resolve(key);
      testClock.advance(15_000);
      await sendAlerts();
    }
    expect(opsTypes(key)).toEqual(["gateway.alert.opened", "gateway.alert.resolved"]);
    const slack = alertReceivers.received.filter((r) => r.url.endsWith("/slack") && r.body.includes(subject));
    expect(slack).toHaveLength(2);
    // One that reopens and stays open is announced once the grace is over.
    await alertStore(env).raise({ kind: "destination.breaker_open", subject });
    await sendAlerts();
    expect(opsTypes(key)).toHaveLength(2);
    testClock.advance(REOPEN_GRACE_MS);
    await sendAlerts();
    expect(opsTypes(key)).toEqual(["gateway.alert.opened", "gateway.alert.resolved", "gateway.alert.opened"]);
  });

  it("resolved alerts and their sent notifications are pruned after 30 days", async () => {
    const subject = uniqueRef("old");
    const key = `destination.paused:${subject}`;
    await alertStore(env).raise({ kind: "destination.paused", subject });
    await alertStore(env).resolve(key);
    await sendAlerts();
    const rows = () =>
      runInDurableObject(
        alertStore(env),
        (_i, state) =>
          state.storage.sql
            .exec<{ n: number }>(
              `SELECT (SELECT count(*) FROM alerts WHERE key = ?1)
                  + (SELECT count(*) FROM notifications WHERE json_extract(alert, '$.key') = ?1) AS n`,
              key,
            )
            .one().n,
      );
    expect(await rows()).toBeGreaterThan(0);
    testClock.advance(KEEP_MS + 60_000);
    expect(await runDurableObjectAlarm(alertStore(env))).toBe(true);
    expect(await rows()).toBe(0);
  });

  it("bad signatures reported by many isolates, one each, open the burst alert", async () => {
    const route = `/webhooks/hmac/${uniqueRef("spread")}`;
    for (let i = 0; i < 19; i++) await alertStore(env).countBadSignatures(route, 1);
    expect((await alertStore(env).list("open")).some((a) => a.key.endsWith(route))).toBe(false);
    await alertStore(env).countBadSignatures(route, 1);
    expect((await alertStore(env).list("open")).find((a) => a.key.endsWith(route))).toMatchObject({ count: 20 });
  });

  it("without GATEWAY_URL, links to the console at the address the gateway was last reached at", async () => {
    const unset = { ...env, GATEWAY_URL: "" };
    const ctx = createExecutionContext();
    await worker.fetch(new Request("https://gateway.example.net/console/login"), unset, ctx);
    await waitOnExecutionContext(ctx);
    const subject = uniqueRef("linked");
    await withAlertsEnv({ GATEWAY_URL: "" }, async () => {
      await alertStore(env).raise({ kind: "destination.paused", subject });
      await sendAlerts();
    });
    const [notice] = alertReceivers.received
      .filter((r) => r.url.endsWith("/ops"))
      .map((r) => new Webhook(OPS_SECRET).verify(r.body, r.headers) as { data: { key: string; console_url: string } })
      .filter((n) => n.data.key.endsWith(subject));
    expect(notice?.data.console_url).toBe("https://gateway.example.net/console/alerts");
  });
});
