// The provider schemes against vectors made with each provider's own SDK (scripts/provider-vectors.mjs
// signs realistic payloads and has the SDK's verifier accept them before they are committed in
// fixtures/provider-vectors.json): genuine → accepted and forwarded with the contract's type and
// object_ref, replay → duplicate, and every single mutation (a body byte, the secret, a header, a
// stale timestamp, one bad Adyen item) → refused, with nothing stored.
import { createExecutionContext, runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import worker from "../src/index";
import { ledgerFor } from "../src/ledger/client";
import { parseSources } from "../src/providers/sources/parse";
import vectorFile from "../fixtures/provider-vectors.json";
import { BASE, ledgerCount } from "./helpers";
import { origin, testClock, type Envelope } from "./stand-ins";
import { testEnv } from "./env";

interface Vector {
  scheme: string;
  source: string;
  body: string;
  headers: Record<string, string>;
  expect: Array<{ type: string; kind: string; object_ref: string }>;
}
const { signedAt, sources } = vectorFile;
const vectors = vectorFile.vectors as Vector[];
const SOURCES = JSON.stringify(sources);

function post(v: Vector, body = v.body, headers = v.headers, webhookSources = SOURCES): Promise<Response> {
  const request = new Request(`${BASE}/webhooks/${v.scheme}/${v.source}`, {
    method: "POST",
    body,
    headers: { "content-type": "application/json", ...headers },
  });
  return Promise.resolve(worker.fetch(request, testEnv({ WEBHOOK_SOURCES: webhookSources }), createExecutionContext()));
}

async function answer(response: Response): Promise<string> {
  const text = await response.text();
  return text === "[accepted]"
    ? text
    : ((JSON.parse(text) as { result?: string; error?: string }).result ??
        `${response.status} ${(JSON.parse(text) as { error: string }).error}`);
}

/** One byte of what the signature covers changed (Adyen: an item's signed eventCode). */
function oneByteChanged(body: string): string {
  const code = body.indexOf('"eventCode":"');
  const at = code >= 0 ? code + '"eventCode":"'.length : body.indexOf('"', body.indexOf(":") + 1) + 1;
  return body.slice(0, at) + (body[at] === "a" ? "b" : "a") + body.slice(at + 1);
}

const withSecret = (v: Vector, secret: string) =>
  JSON.stringify({ ...sources, [v.source]: { ...(sources as Record<string, object>)[v.source], secret } });
/** The headers a request cannot do without: all but those that only name the event (Razorpay's
 *  x-razorpay-event-id, Xendit's webhook-id); PortOne V2's webhook-id is signed. */
const required = (v: Vector) =>
  Object.keys(v.headers).filter((h) => h !== "x-razorpay-event-id" && !(v.scheme === "xendit" && h === "webhook-id"));

// First, while the batch is new: its valid first item must not be stored either.
describe("an Adyen batch", () => {
  const v = vectors.find((x) => x.scheme === "adyen") as Vector;

  it("with one bad item is refused whole: neither item is stored", async () => {
    testClock.now = signedAt * 1000;
    const batch = JSON.parse(v.body) as {
      notificationItems: Array<{ NotificationRequestItem: Record<string, unknown> }>;
    };
    const second = batch.notificationItems[1]?.NotificationRequestItem as Record<string, unknown>;
    second.merchantReference = `${String(second.merchantReference)}x`;
    const before = await ledgerCount();
    expect((await post(v, JSON.stringify(batch))).status).toBe(401);
    expect(await ledgerCount()).toBe(before);
  });
});

describe.each(vectors.map((v) => [v.scheme, v] as const))("%s, signed by its SDK", (scheme, v) => {
  const at = () => {
    testClock.now = signedAt * 1000 + 1000; // within every scheme's tolerance (Paddle's is 5 s)
  };

  it("is accepted, forwarded with the contract's type and object_ref, and its replay is a duplicate", async () => {
    at();
    const first = await post(v);
    expect(first.status).toBe(200);
    expect(await answer(first)).toBe(scheme === "adyen" ? "[accepted]" : "accepted");
    const objects = new Set(v.expect.map((e) => `${e.kind}:${e.object_ref}`));
    // The vectors' clock is the real one, so the objects' alarms may fire by themselves: run them, or
    // wait for them.
    for (const key of objects) {
      const [kind = "", ref = ""] = key.split(":");
      await runDurableObjectAlarm(ledgerFor(testEnv(), v.source, kind, ref));
    }
    await vi.waitFor(() => expect(origin.acknowledged.length).toBeGreaterThanOrEqual(v.expect.length));
    const forwarded = origin.acknowledged.map((r) => JSON.parse(r.body) as Envelope);
    expect(forwarded.map((e) => ({ type: e.type, kind: e.kind, object_ref: e.object_ref }))).toEqual(v.expect);
    expect(forwarded.every((e) => e.provider === scheme && e.source === "webhook")).toBe(true);
    expect(forwarded.every((e) => (e as { source_name?: string }).source_name === v.source)).toBe(true);
    if (scheme === "adyen") {
      // Only the eight signed values are data; the rest of each item travels as unverified.
      const [item] = forwarded as Array<Envelope & { unverified?: Record<string, unknown> }>;
      expect(Object.keys(item?.data ?? {}).sort()).toEqual(
        ["amount", "eventCode", "merchantAccountCode", "merchantReference", "pspReference", "success"].sort(),
      );
      expect(item?.unverified).toMatchObject({ paymentMethod: "visa" });
      // The signature is no fact about the payment: it is not forwarded, not even as unverified.
      expect(JSON.stringify(forwarded)).not.toContain("hmacSignature");
    }
    const before = await ledgerCount();
    const replay = await post(v);
    expect(await answer(replay)).toBe(scheme === "adyen" ? "[accepted]" : "duplicate");
    expect(await ledgerCount()).toBe(before);
  });

  it.each([
    ["one byte of the body", (x: Vector) => post(x, oneByteChanged(x.body))],
    ["another secret", (x: Vector) => post(x, x.body, x.headers, withSecret(x, otherSecret(x.scheme)))],
    ...required(v).map(
      (h) =>
        [`no ${h} header`, (x: Vector) => post(x, x.body, omit(x.headers, h))] as [
          string,
          (x: Vector) => Promise<Response>,
        ],
    ),
  ])("is refused with %s", async (what, send) => {
    at();
    const before = await ledgerCount();
    const response = await send(v);
    if (scheme === "xendit" && what === "one byte of the body") {
      // Xendit's token authenticates the sender, not the body: a changed body is a new event.
      expect(response.status).toBe(200);
      return;
    }
    expect(response.status).toBe(401);
    expect(await ledgerCount()).toBe(before);
  });
});

function omit(headers: Record<string, string>, name: string): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([k]) => k !== name));
}

function otherSecret(scheme: string): string {
  if (scheme === "adyen") return "00".repeat(32);
  if (scheme === "portone-v2") return `whsec_${btoa("another-portone-v2-secret-0123456")}`;
  return "another-secret-0123456789";
}

describe("timestamps", () => {
  it.each([
    ["stripe", 301],
    ["paddle", 6],
    ["portone-v2", 301],
  ])("%s refuses a signature older than its tolerance (%i s): 401 stale_timestamp", async (scheme, seconds) => {
    const v = vectors.find((x) => x.scheme === scheme) as Vector;
    testClock.now = (signedAt + seconds) * 1000;
    const response = await post(v);
    expect(response.status).toBe(401);
    expect((await response.json<{ error: string }>()).error).toBe("stale_timestamp");
  });

  it("portone-v2 refuses a timestamp more than 300 s ahead, as PortOne's SDK does", async () => {
    const v = vectors.find((x) => x.scheme === "portone-v2") as Vector;
    testClock.now = (signedAt - 301) * 1000;
    expect((await post(v)).status).toBe(401);
  });
});

describe("WEBHOOK_SOURCES with provider schemes", () => {
  it("takes each scheme with only its secret, and refuses an unknown scheme or a bad key", () => {
    expect(parseSources(SOURCES).ok).toBe(true);
    expect(parseSources(JSON.stringify({ x: { scheme: "paypal", secret: "s" } })).ok).toBe(false);
    expect(parseSources(JSON.stringify({ x: { scheme: "adyen", secret: "not hex" } })).ok).toBe(false);
    expect(
      parseSources(JSON.stringify({ stripe: { scheme: "hmac", secret: "x".repeat(16), objectRef: "id", status: "s" } }))
        .ok,
    ).toBe(false);
  });

  it("routes a scheme's source only at its own scheme", async () => {
    const stripe = vectors.find((x) => x.scheme === "stripe") as Vector;
    const response = await post({ ...stripe, scheme: "razorpay" });
    expect(response.status).toBe(404);
  });
});
