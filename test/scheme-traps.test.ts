// Provider schemes where the signature alone leaves a door open, tried as an attacker would: an
// unsigned header that names the event, a signed message whose separator can be moved, a timestamp
// compared more loosely than the provider's SDK does.
import { createExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import vectorFile from "../fixtures/provider-vectors.json";
import { BASE, ledgerCount } from "./helpers";
import { testClock } from "./stand-ins";
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
