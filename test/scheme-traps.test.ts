// Provider schemes where the signature alone leaves a door open, tried as an attacker would: an
// unsigned header that names the event, a signed message whose separator can be moved, a timestamp
// compared more loosely than the provider's SDK does.
import { createExecutionContext, runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import { ledgerFor } from "../src/ledger/client";
import vectorFile from "../fixtures/provider-vectors.json";
import { BASE, ledgerCount } from "./helpers";
import { origin, testClock } from "./stand-ins";
import { testEnv } from "./env";

interface Vector {
  scheme: string;
  source: string;
  body: string;
  headers: Record<string, string>;
}
const { signedAt, sources } = vectorFile;
const vectors = vectorFile.vectors as unknown as Vector[];
const vector = (scheme: string) => vectors.find((v) => v.scheme === scheme) as Vector;

function post(v: Vector, body = v.body, headers = v.headers): Promise<Response> {
  const request = new Request(`${BASE}/webhooks/${v.scheme}/${v.source}`, {
    method: "POST",
    body,
    headers: { "content-type": "application/json", ...headers },
  });
  const env = testEnv({ WEBHOOK_SOURCES: JSON.stringify(sources) });
  return Promise.resolve(worker.fetch(request, env, createExecutionContext()));
}

async function adyenSignature(item: Record<string, string>, amount: { value: number; currency: string }) {
  const hex = sources.cards.secret;
  const key = await crypto.subtle.importKey(
    "raw",
    Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16)),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const fields = ["pspReference", "originalReference", "merchantAccountCode", "merchantReference"];
  const message = [...fields.map((f) => item[f] ?? ""), amount.value, amount.currency, item.eventCode, item.success];
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(message.join(":"))));
  return btoa(String.fromCharCode(...mac));
}

async function adyenBody(item: Record<string, string>) {
  const amount = { value: 1000, currency: "EUR" };
  const signed = { ...item, amount, additionalData: { hmacSignature: await adyenSignature(item, amount) } };
  return JSON.stringify({ live: "false", notificationItems: [{ NotificationRequestItem: signed }] });
}

describe("Razorpay's unsigned x-razorpay-event-id", () => {
  it("never makes one signed body a new event: a new header value on a captured body is a duplicate", async () => {
    testClock.now = signedAt * 1000;
    const v = vector("razorpay");
    const answers = [];
    for (const id of ["evt_first", "evt_second", "evt_third"])
      answers.push(await (await post(v, v.body, { ...v.headers, "x-razorpay-event-id": id })).json());
    expect(answers.map((a) => (a as { result: string }).result)).toEqual(["accepted", "duplicate", "duplicate"]);
  });
});

describe("Adyen's colon-joined signed values", () => {
  it("refuses an item whose Adyen-generated value holds a ':' (a moved colon keeps the signature)", async () => {
    testClock.now = signedAt * 1000;
    // Signed as "PSP1:X:VICTIM:ShopSG:ref:1000:EUR:AUTHORISATION:true", the colon moved out of a
    // merchantReference "X:VICTIM…" would name the victim's object as originalReference.
    const forged = await adyenBody({
      pspReference: "PSP1:X",
      originalReference: "VICTIM",
      merchantAccountCode: "ShopSG",
      merchantReference: "ref",
      eventCode: "REFUND",
      success: "true",
    });
    const before = await ledgerCount();
    const response = await post(vector("adyen"), forged, {});
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: "invalid_field_type" });
    expect(await ledgerCount()).toBe(before);
  });

  it("takes a merchantReference that holds colons: the split is then unique", async () => {
    testClock.now = signedAt * 1000;
    const genuine = await adyenBody({
      pspReference: crypto.randomUUID().replace(/-/g, "").slice(0, 16),
      merchantAccountCode: "ShopSG",
      merchantReference: "order:2026:42",
      eventCode: "AUTHORISATION",
      success: "true",
    });
    const response = await post(vector("adyen"), genuine, {});
    expect(await response.text()).toBe("[accepted]");
  });
});

describe("Paddle's 5 s window", () => {
  it("is compared in milliseconds, as Paddle's SDK does: 5.9 s old is stale", async () => {
    testClock.now = signedAt * 1000 + 5_900;
    const response = await post(vector("paddle"));
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: "stale_timestamp" });
  });
});

describe("two sources of one scheme (a sandbox and a live one)", () => {
  it("never share an object: the sandbox token cannot move a live invoice, and source_name tells them apart", async () => {
    const both = {
      ...sources,
      "id-sandbox": { scheme: "xendit", secret: "xnd_sandbox_callback_token_0123456789abcdef" },
    };
    const send = (source: string, token: string, status: string) =>
      worker.fetch(
        new Request(`${BASE}/webhooks/xendit/${source}`, {
          method: "POST",
          body: JSON.stringify({ id: "inv_shared_ref", external_id: "order-1", status, amount: 50000 }),
          headers: { "content-type": "application/json", "x-callback-token": token, "webhook-id": "wh_same" },
        }),
        testEnv({ WEBHOOK_SOURCES: JSON.stringify(both) }),
        createExecutionContext(),
      );
    expect(await (await send("id", sources.id.secret, "PENDING")).json()).toEqual({ result: "accepted" });
    const sandbox = await send("id-sandbox", both["id-sandbox"].secret, "PAID");
    expect(await sandbox.json()).toEqual({ result: "accepted" });
    const live = await ledgerFor(testEnv(), "id", "event", "inv_shared_ref").inspect();
    const test = await ledgerFor(testEnv(), "id-sandbox", "event", "inv_shared_ref").inspect();
    expect(live.state).toMatchObject([{ status: "PENDING" }]);
    expect(test.state).toMatchObject([{ status: "PAID" }]);
    expect(live.events[0]?.event_id).not.toBe(test.events[0]?.event_id);
    // The operator API names a source's objects by the source.
    const inspect = await worker.fetch(
      new Request(`${BASE}/admin/objects/id-sandbox/event/inv_shared_ref`, {
        headers: { authorization: "Bearer test-admin-token" },
      }),
      testEnv({ WEBHOOK_SOURCES: JSON.stringify(both) }),
      createExecutionContext(),
    );
    expect(inspect.status).toBe(200);
    expect(await inspect.json()).toMatchObject({ object: "id-sandbox:event:inv_shared_ref" });
    for (const [stub, name] of [
      [ledgerFor(testEnv(), "id", "event", "inv_shared_ref"), "id"],
      [ledgerFor(testEnv(), "id-sandbox", "event", "inv_shared_ref"), "id-sandbox"],
    ] as const) {
      await runDurableObjectAlarm(stub);
      expect(origin.acknowledged.map((r) => (JSON.parse(r.body) as { source_name: string }).source_name)).toContain(
        name,
      );
    }
  });
});
