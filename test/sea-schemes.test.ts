// The seed documents' and Southeast Asia's schemes against their vectors (scripts/provider-vectors-sea.mjs:
// each signed by its provider's documented rule, Cashfree's accepted by cashfree-pg): genuine → accepted
// and forwarded once with the contract's type, object, status, data and unverified; replay → duplicate;
// each scheme's trap → 401 with nothing stored. Midtrans and Payment Options forward only their status
// API's answer (a stand-in here), with card numbers masked, never an answer about another reference.
import { createExecutionContext, runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import worker from "../src/index";
import { ledgerFor } from "../src/ledger/client";
import { parseSources } from "../src/providers/sources/parse";
import vectorFile from "../fixtures/provider-vectors.json";
import { hintsAwaiting } from "../src/readmodel/overview";
import { adminFetch } from "./admin-helpers";
import { BASE, ledgerCount } from "./helpers";
import { origin, providerApis, testClock, type Envelope } from "./stand-ins";
import { testEnv } from "./env";

interface Vector {
  scheme: string;
  source: string;
  body: string;
  headers: Record<string, string>;
  expect: Array<{ type: string; kind: string; object_ref: string }>;
  token?: string;
  answer?: string;
  api?: { path: string; answer: Record<string, unknown> };
}
interface Trap extends Vector {
  why: string;
  reason: string;
  sources?: Record<string, unknown>;
}
const { signedAt, sources } = vectorFile;
const vectors = vectorFile.seaVectors as Vector[];
const traps = vectorFile.traps as Trap[];
const SOURCES = JSON.stringify(sources);
const byScheme = (scheme: string) => vectors.find((v) => v.scheme === scheme) as Vector;

function post(v: Vector, body = v.body, more: { token?: string; sources?: string } = {}): Promise<Response> {
  const token = more.token ?? v.token;
  const request = new Request(`${BASE}/webhooks/${v.scheme}/${v.source}${token ? `/${token}` : ""}`, {
    method: "POST",
    body,
    headers: { "content-type": "application/json", ...v.headers },
  });
  const e = testEnv({ WEBHOOK_SOURCES: more.sources ?? SOURCES });
  return Promise.resolve(worker.fetch(request, e, createExecutionContext()));
}

const at = () => (testClock.now = signedAt * 1000 + 1000);
const forwarded = () => origin.acknowledged.map((r) => JSON.parse(r.body) as Envelope & { source_name?: string });
/** Runs the object's alarm (the vectors' clock is the real one, so it may have fired by itself: then
 *  waits for what it forwards, `forwards` events). */
async function alarm(v: Vector, forwards = 1): Promise<void> {
  await runDurableObjectAlarm(ledgerFor(env, v.source, "payment", v.expect[0]?.object_ref ?? ""));
  await vi.waitFor(() => expect(origin.acknowledged.length).toBeGreaterThanOrEqual(forwards));
}

/** The vector about a transaction of its own (new ids, Midtrans's signature made again with the
 *  source's server key), so each test has an object of its own. */
async function fresh(v: Vector): Promise<Vector> {
  const id = crypto.randomUUID();
  const body = JSON.parse(v.body) as Record<string, unknown>;
  const answer = structuredClone(v.api?.answer ?? {});
  if (v.scheme === "midtrans") {
    const order = `order-${id.slice(0, 8)}`;
    const key = (sources as Record<string, { secret?: string }>)[v.source]?.secret ?? "";
    const text = `${order}${String(body.status_code)}${String(body.gross_amount)}${key}`;
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-512", new TextEncoder().encode(text)));
    const signature = [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
    Object.assign(body, { order_id: order, transaction_id: id, signature_key: signature });
    Object.assign(answer, { order_id: order, transaction_id: id });
    const expect = [{ ...v.expect[0], object_ref: order }] as Vector["expect"];
    return { ...v, body: JSON.stringify(body), expect, api: { path: `/midtrans/v2/${id}/status`, answer } };
  }
  (body.transaction_details as Record<string, unknown>).id = id;
  (answer.transaction_details as Record<string, unknown>).id = id;
  const path = `/payment-options/api/v1/server-to-server-interface/transaction/status/${id}`;
  return {
    ...v,
    body: JSON.stringify(body),
    expect: [{ ...v.expect[0], object_ref: id }] as Vector["expect"],
    api: { path, answer },
  };
}

/** The status API's stand-in answers the vector's transaction (or `answer`) at its path. */
function apiAnswers(v: Vector, answer = v.api?.answer): void {
  providerApis.answer((request) =>
    new URL(request.url).pathname === v.api?.path && answer
      ? Response.json(answer)
      : Response.json({}, { status: 404 }),
  );
}

describe.each(vectors.filter((v) => !v.api).map((v) => [v.scheme, v] as const))("%s", (scheme, v) => {
  it("is accepted, forwarded once with the contract's type, object and data, and its replay is a duplicate", async () => {
    at();
    const first = await post(v);
    expect(first.status).toBe(200);
    if (v.answer) {
      expect(first.headers.get("content-type")).toMatch(/^text\/plain/);
      expect(await first.text()).toBe(v.answer);
    } else expect(await first.json()).toEqual({ result: "accepted" });
    await alarm(v);
    const events = forwarded();
    expect(events.map((e) => ({ type: e.type, kind: e.kind, object_ref: e.object_ref }))).toEqual(v.expect);
    expect(events[0]).toMatchObject({ provider: scheme, source: "webhook", source_name: v.source });
    if (scheme === "fpx") {
      expect(Object.keys(events[0]?.data ?? {})).toHaveLength(21);
      expect(events[0]?.unverified).toEqual({ fpx_buyerEmail: "buyer@example.com" });
      expect(JSON.stringify(events[0])).not.toContain("fpx_checkSum");
    } else expect(events[0]?.unverified).toBeUndefined();
    const before = await ledgerCount();
    const replay = await post(v);
    expect(replay.status).toBe(200);
    expect(v.answer ? await replay.text() : await replay.json()).toEqual(v.answer ?? { result: "duplicate" });
    expect(await ledgerCount()).toBe(before);
  });
});

describe("traps", () => {
  it.each(traps.map((t) => [`${t.scheme}: ${t.why}`, t] as const))("%s → 401", async (_name, trap) => {
    at();
    const before = await ledgerCount();
    const response = await post(
      trap,
      trap.body,
      trap.sources ? { sources: JSON.stringify({ ...sources, ...trap.sources }) } : {},
    );
    expect(response.status).toBe(401);
    expect((await response.json<{ error: string }>()).error).toBe(trap.reason);
    expect(await ledgerCount()).toBe(before);
  });

  it("pulse2pay and cashfree refuse a millisecond timestamp past the tolerance", async () => {
    for (const scheme of ["pulse2pay", "cashfree"]) {
      testClock.now = signedAt * 1000 + 301_000;
      const response = await post(byScheme(scheme));
      expect(await response.json()).toMatchObject({ error: "stale_timestamp" });
    }
  });

  it("paymongo in test mode compares te, and refuses li", async () => {
    at();
    const live = byScheme("paymongo");
    const li = /li=([0-9a-f]+)/.exec(live.headers["paymongo-signature"] ?? "")?.[1] ?? "";
    const t = `t=${signedAt}`;
    const test = { ...live, source: "ph-test" };
    expect((await post({ ...test, headers: { "paymongo-signature": `${t},te=,li=${li}` } })).status).toBe(401);
    expect((await post({ ...test, headers: { "paymongo-signature": `${t},te=${li},li=` } })).status).toBe(200);
    // Its alarm runs by itself (the vectors' clock is the real one): wait for its forward here.
    await vi.waitFor(() => expect(origin.acknowledged).toHaveLength(1));
  });
});

describe.each([["midtrans"], ["payment-options"]])("%s, confirmed with its status API", (scheme) => {
  const v = byScheme(scheme);
  // No timestamp is signed: the test clock stays a year ahead, so alarms run only when a test runs them.

  it("stores the notification as a hint and forwards only the API's answer, card numbers masked", async () => {
    apiAnswers(v);
    const first = await post(v);
    expect(await first.json()).toEqual({ result: "accepted" });
    expect(origin.acknowledged).toHaveLength(0);
    await alarm(v);
    expect(providerApis.requests).toHaveLength(1);
    const events = forwarded();
    expect(events.map((e) => ({ type: e.type, kind: e.kind, object_ref: e.object_ref }))).toEqual(v.expect);
    expect(events[0]).toMatchObject({ provider: scheme, source: "api", source_name: v.source });
    expect(events[0]?.unverified).toBeUndefined();
    const text = JSON.stringify(events[0]);
    expect(text).not.toMatch(/\d{13,19}/);
    expect(text).toMatch(/\*{12}(1114|1005)/);
    const report = JSON.stringify(await ledgerFor(env, v.source, "payment", v.expect[0]?.object_ref ?? "").inspect());
    expect(report).not.toMatch(/\d{13,19}/);
    expect(await (await post(v)).json()).toEqual({ result: "duplicate" });
  });

  it("records nothing from an answer about another reference, and keeps asking", async () => {
    const v = await fresh(byScheme(scheme));
    const other = structuredClone(v.api?.answer ?? {});
    if (scheme === "midtrans") other.order_id = "someone-else";
    else (other.transaction_details as Record<string, unknown>).id = "another-transaction";
    apiAnswers(v, other);
    await post(v);
    await alarm(v, 0);
    expect(providerApis.requests).toHaveLength(1);
    expect(origin.acknowledged).toHaveLength(0);
    const report = await ledgerFor(env, v.source, "payment", v.expect[0]?.object_ref ?? "").inspect();
    expect(report.events).toHaveLength(0);
    expect(report.confirmations).toMatchObject([{ confirmer: scheme, state: "confirming", confirm_attempts: 1 }]);
  });

  it("asks again within two minutes while the API does not know the transaction", async () => {
    const v = await fresh(byScheme(scheme));
    providerApis.answer(() =>
      Response.json({ status_code: "404", status_message: "Transaction doesn't exist." }, { status: 404 }),
    );
    await post(v);
    await alarm(v, 0);
    testClock.advance(120_000);
    apiAnswers(v);
    await alarm(v);
    expect(providerApis.requests).toHaveLength(2);
    expect(forwarded()).toHaveLength(1);
  });
});

describe("an unconfirmed hint", () => {
  it.each([["midtrans"], ["payment-options"]])(
    "%s: is visible on its object (admin API) and counted in the read model, until the API confirms it",
    async (scheme) => {
      const v = await fresh(byScheme(scheme));
      const ref = v.expect[0]?.object_ref ?? "";
      providerApis.answer(() => Response.json({}, { status: 404 }));
      await post(v);
      await alarm(v, 0);
      const object = await adminFetch(`/objects/${v.source}/payment/${encodeURIComponent(ref)}`);
      expect(object.status).toBe(200);
      const report = await object.json<{ events: unknown[]; confirmations: Array<Record<string, unknown>> }>();
      expect(report.events).toEqual([]);
      expect(report.confirmations).toMatchObject([{ confirmer: scheme, state: "confirming", confirm_attempts: 1 }]);
      const counted = () => hintsAwaiting(env.READ_MODEL, 100);
      await vi.waitFor(async () =>
        expect((await counted()).objects).toContainEqual(
          expect.objectContaining({ object: `${v.source}:payment:${ref}`, confirming: 1, unconfirmed: 0 }),
        ),
      );
      testClock.advance(120_000);
      apiAnswers(v);
      await alarm(v);
      await vi.waitFor(async () =>
        expect((await counted()).objects.map((o) => o.object)).not.toContain(`${v.source}:payment:${ref}`),
      );
    },
  );
});

describe("payment-options' token", () => {
  const v = byScheme("payment-options");
  it.each([
    ["a wrong token", "x".repeat(40)],
    ["no token", ""],
  ])("refuses %s with 401", async (_what, token) => {
    at();
    const response = await post({ ...v, token: undefined }, v.body, { token });
    expect(response.status).toBe(401);
    expect((await response.json<{ error: string }>()).error).toMatch(/bad_signature|missing_signature/);
  });

  it("is refused on any other scheme's route", async () => {
    at();
    const stripeLike = { ...byScheme("paystack"), token: "t".repeat(40) };
    expect((await post(stripeLike)).status).toBe(404);
  });
});

describe("WEBHOOK_SOURCES for these schemes", () => {
  const invalid = (source: Record<string, unknown>) => {
    const parsed = parseSources(JSON.stringify({ x: source }));
    return parsed.ok ? null : parsed.error.key;
  };

  it("takes every vector's source, and names the bad key of one that cannot work", () => {
    expect(parseSources(SOURCES).ok).toBe(true);
    const po = { scheme: "payment-options", secret: "s".repeat(32), apiKey: "k", apiBaseUrl: "https://po.example" };
    expect(invalid({ ...po, secret: "short" })).toBe("WEBHOOK_SOURCES.x");
    expect(invalid({ ...po, apiKey: undefined })).toBe("WEBHOOK_SOURCES.x");
    expect(invalid({ ...po, apiBaseUrl: undefined })).toBe("WEBHOOK_SOURCES.x");
    expect(invalid({ scheme: "fpx" })).toBe("WEBHOOK_SOURCES.x");
    expect(invalid({ scheme: "fpx", certificate: "not a certificate" })).toBe("WEBHOOK_SOURCES.x");
    expect(invalid({ scheme: "omise", secret: "not base64!" })).toBe("WEBHOOK_SOURCES.x");
    expect(invalid({ scheme: "paymongo", secret: "s", mode: "sandbox" })).toBe("WEBHOOK_SOURCES.x");
    expect(invalid({ scheme: "stripe", secret: "s", apiKey: "k" })).toBe("WEBHOOK_SOURCES.x");
  });
});
