// Without PORTONE_SECRET_KEY the gateway fails closed: 503 (so PortOne retries later), nothing
// stored. The Worker is called directly with an Env that lacks the secret.
import { createExecutionContext } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import worker from "../src/index";
import { BASE, kvKeyCount, ledgerCount } from "./helpers";
import { paymentSample } from "../fixtures/portone-samples";
import { testEnv } from "./env";

describe("a gateway without a PortOne secret", () => {
  it.each([undefined, "", " , ,"])("refuses every webhook with 503 not_configured (secret %j)", async (secret) => {
    const unconfigured = testEnv({ PORTONE_SECRET_KEY: secret });
    const [ledgers, keys] = [await ledgerCount(), await kvKeyCount()];
    const request = new Request(`${BASE}/webhooks/portone/payment`, {
      method: "POST",
      body: JSON.stringify(paymentSample),
    });
    const response = await worker.fetch(request, unconfigured, createExecutionContext());
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ error: "not_configured" });
    expect(await ledgerCount()).toBe(ledgers);
    expect(await kvKeyCount()).toBe(keys);
  });
});

describe("a gateway holding a value published in .dev.vars.example, outside npm run dev", () => {
  const send = (vars: Partial<Env>, path = "/webhooks/portone/payment", init: RequestInit = {}) =>
    worker.fetch(
      new Request(`${BASE}${path}`, { method: "POST", body: JSON.stringify(paymentSample), ...init }),
      testEnv({ LOCAL_DEV: undefined, WEBHOOK_SOURCES: "", ...vars }),
      createExecutionContext(),
    );
  const production = {
    PORTONE_SECRET_KEY: "prod-portone-secret",
    ADMIN_TOKEN: "a-production-admin-token-0123456789",
    FORWARD_SIGNING_SECRET: "whsec_cHJvZHVjdGlvbi1mb3J3YXJkaW5nLXNlY3JldA==",
  };

  it.each([
    ["PORTONE_SECRET_KEY", { PORTONE_SECRET_KEY: "prod-portone-secret, PORTONE_SECRET" }],
    ["FORWARD_SIGNING_SECRET", { FORWARD_SIGNING_SECRET: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" }],
    ["ADMIN_TOKEN", { ADMIN_TOKEN: "local-admin-token" }],
    [
      "WEBHOOK_SOURCES",
      { WEBHOOK_SOURCES: JSON.stringify({ in: { scheme: "razorpay", secret: "razorpay-webhook-secret-0123" } }) },
    ],
  ])(
    "refuses webhooks with 503 not_configured and closes the admin API and console (%s), naming it in the log",
    async (name, vars) => {
      const logged = vi.spyOn(console, "error").mockImplementation(() => undefined);
      const response = await send({ ...production, ...vars });
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({ error: "not_configured" });
      expect(logged.mock.calls.some(([line]) => String(line).includes(name))).toBe(true);
      const admin = await send({ ...production, ...vars }, "/admin/stats", {
        method: "GET",
        body: null,
        headers: {
          authorization: `Bearer ${(vars as { ADMIN_TOKEN?: string }).ADMIN_TOKEN ?? production.ADMIN_TOKEN}`,
        },
      });
      expect(admin.status).toBe(404);
      expect((await send({ ...production, ...vars }, "/console/login", { method: "GET", body: null })).status).toBe(
        404,
      );
    },
  );

  it("takes them in a run npm run dev marked, and production values anywhere", async () => {
    expect((await send({ ...production, LOCAL_DEV: "1", ADMIN_TOKEN: "local-admin-token" })).status).not.toBe(503);
    expect((await send(production)).status).toBe(401); // the sample is signed with the example key
  });
});
