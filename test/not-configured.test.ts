// Without PORTONE_SECRET_KEY the gateway fails closed: 503 (so PortOne retries later), nothing
// stored. The Worker is called directly with an Env that lacks the secret.
import { createExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
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
