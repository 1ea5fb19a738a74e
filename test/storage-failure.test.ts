// Nothing acknowledged is lost: when the ledger cannot store an event, PortOne gets a 5xx (so it
// retries), not a 200, and no KV marker claims the event was seen. The fault is real: the
// object's SQLite table is dropped inside workerd, so record() fails as a broken disk would.
import { createExecutionContext, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import { BASE, KINDS, deliver, eventFor, ledgerOf, resultOf, uniqueRef } from "./helpers";

describe("when the ledger fails", () => {
  it("answers 503 storage_unavailable and writes no seen marker", async () => {
    const ref = uniqueRef("broken");
    expect(await resultOf(await deliver("payment", await eventFor("payment", ref, "Pending")))).toBe("accepted");
    await runInDurableObject(ledgerOf(KINDS.payment, ref), (_instance, state) => {
      state.storage.sql.exec("DROP TABLE events");
    });
    const keysBefore = (await env.SEEN.list()).keys.length;
    const ctx = createExecutionContext();
    const body = JSON.stringify(await eventFor("payment", ref, "Success"));
    const response = await worker.fetch(
      new Request(`${BASE}/webhooks/portone/payment`, { method: "POST", body }),
      env,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ error: "storage_unavailable" });
    expect((await env.SEEN.list()).keys.length).toBe(keysBefore);
  });
});
