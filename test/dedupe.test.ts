// Deduplication: the ledger is the authority, KV only a hint that spares waking it.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { SEEN_TTL_SECONDS } from "../src/kv/seen";
import worker from "../src/index";
import { sha256Hex } from "../src/lib/hmac";
import {
  BASE,
  KINDS,
  deliver,
  eventFor,
  ledgerCount,
  portOneEventId,
  post,
  resultOf,
  storedObject,
  uniqueRef,
  type Slug,
} from "./helpers";
import { testEnv } from "./env";

/** Calls the Worker directly and waits for its waitUntil work (the KV marker) to finish. */
async function deliverAndSettle(slug: Slug, body: string): Promise<Response> {
  const ctx = createExecutionContext();
  const request = new Request(`${BASE}/webhooks/portone/${slug}`, { method: "POST", body });
  const response = await worker.fetch(request, env, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

async function seenMarkers(): Promise<string[]> {
  return (await env.SEEN.list({ prefix: "seen:" })).keys.map((k) => k.name);
}

describe("deduplication", () => {
  it("40 concurrent copies of one new event: exactly one accepted, 39 duplicates, one stored event", async () => {
    const ref = uniqueRef("burst");
    const body = JSON.stringify(await eventFor("payment-link", ref, "Created"));
    const responses = await Promise.all(Array.from({ length: 40 }, () => post("/webhooks/portone/payment-link", body)));
    const results = await Promise.all(responses.map(resultOf));
    expect(responses.every((r) => r.status === 200)).toBe(true);
    expect(results.filter((r) => r === "accepted")).toHaveLength(1);
    expect(results.filter((r) => r === "duplicate")).toHaveLength(39);
    const stored = await storedObject(KINDS["payment-link"], ref);
    expect(stored.events).toHaveLength(1);
  });

  it("a redelivery that is equal once parsed (key order, whitespace, 500 vs 500.0) is a duplicate", async () => {
    const ref = uniqueRef("parsed");
    const payload = await eventFor("payment", ref, "Success");
    expect(await resultOf(await deliver("payment", payload))).toBe("accepted");
    const reordered = Object.fromEntries(Object.entries(payload).reverse());
    const respelled = JSON.stringify(reordered, null, 2).replace('"amount": 500', '"amount": 500.0');
    expect(respelled).toContain('"amount": 500.0');
    expect(await resultOf(await post("/webhooks/portone/payment", respelled))).toBe("duplicate");
    expect((await storedObject(KINDS.payment, ref)).events).toHaveLength(1);
  });

  it("two subscription Active events differing only in unsigned fields are one event (identity is signed content)", async () => {
    const ref = uniqueRef("sub");
    const first = await eventFor("subscription-link", ref, "Active", { collected_count: 1, collected_amount: 103 });
    const second = await eventFor("subscription-link", ref, "Active", { collected_count: 2, collected_amount: 206 });
    expect(first.signature_hash).toBe(second.signature_hash);
    expect(await resultOf(await deliver("subscription-link", first))).toBe("accepted");
    expect(await resultOf(await deliver("subscription-link", second))).toBe("duplicate");
    const stored = await storedObject(KINDS["subscription-link"], ref);
    expect(stored.events.map((e) => e.outcome)).toEqual(["accepted"]);
  });

  it("a new event writes no KV marker; its first redelivery (the ledger's duplicate) writes one with a TTL, and the next is answered from it", async () => {
    const ref = uniqueRef("kv");
    const body = JSON.stringify(await eventFor("payment", ref, "Pending"));
    const before = new Set(await seenMarkers());
    expect(await resultOf(await deliverAndSettle("payment", body))).toBe("accepted");
    expect((await seenMarkers()).filter((k) => !before.has(k))).toEqual([]);
    expect(await resultOf(await deliverAndSettle("payment", body))).toBe("duplicate");
    const added = (await seenMarkers()).filter((k) => !before.has(k));
    expect(added).toHaveLength(1);
    const marker = await env.SEEN.getWithMetadata(added[0] as string);
    expect(marker.value).toBe(`${await sha256Hex(body)} portone:payment:${ref}`);
    const listed = (await env.SEEN.list({ prefix: added[0] })).keys[0];
    const ttl = (listed?.expiration ?? 0) - Date.now() / 1000;
    expect(ttl).toBeGreaterThan(SEEN_TTL_SECONDS - 120);
    expect(ttl).toBeLessThanOrEqual(SEEN_TTL_SECONDS + 1);
    expect(await resultOf(await deliverAndSettle("payment", body))).toBe("duplicate");
  });

  it("a redelivery found in KV is answered duplicate without waking any Durable Object", async () => {
    // A marker planted for an event no ledger has seen: only the KV path can answer "duplicate"
    // (the ledger would say "accepted"), and no Durable Object may be created for it.
    const ref = uniqueRef("planted");
    const payload = await eventFor("payment", ref, "Success");
    // A marker as written before markers held the body's hash: the object's name alone.
    await env.SEEN.put(`seen:${await portOneEventId("payment", payload)}`, `portone:payment:${ref}`);
    const ledgersBefore = await ledgerCount();
    expect(await resultOf(await deliverAndSettle("payment", JSON.stringify(payload)))).toBe("duplicate");
    expect(await ledgerCount()).toBe(ledgersBefore);
  });

  it("a KV miss never decides: the ledger still answers duplicate for a recorded event", async () => {
    const ref = uniqueRef("miss");
    const body = JSON.stringify(await eventFor("payment-link", ref, "Created"));
    expect(await resultOf(await deliverAndSettle("payment-link", body))).toBe("accepted");
    for (const key of await seenMarkers()) await env.SEEN.delete(key);
    expect(await resultOf(await deliverAndSettle("payment-link", body))).toBe("duplicate");
    expect((await storedObject(KINDS["payment-link"], ref)).events).toHaveLength(1);
  });
});

describe("with SEEN_HINT=off", () => {
  it("reads and writes no KV, and the ledger still answers every redelivery", async () => {
    const off = testEnv({ SEEN_HINT: "off" });
    const body = JSON.stringify(await eventFor("payment", uniqueRef("nohint"), "Success"));
    const keysBefore = (await env.SEEN.list()).keys.length;
    const send = async () => {
      const ctx = createExecutionContext();
      const response = await worker.fetch(
        new Request(`${BASE}/webhooks/portone/payment`, { method: "POST", body }),
        off,
        ctx,
      );
      await waitOnExecutionContext(ctx);
      return resultOf(response);
    };
    expect(await send()).toBe("accepted");
    expect(await send()).toBe("duplicate");
    expect((await env.SEEN.list()).keys.length).toBe(keysBefore);
  });
});
