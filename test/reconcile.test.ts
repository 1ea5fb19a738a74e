// Reconciliation with PortOne's API (design: "Reconciliation and retention"), against a stand-in that
// follows the documented shapes. A payment whose final webhook never came is found and forwarded
// with source "reconciliation"; the webhook that comes later is a duplicate. Every failure of the API
// changes nothing and is bounded.
import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { KINDS, ledgerOf, uniqueRef } from "./helpers";
import worker from "../src/index";
import { adminFetch, TOKEN } from "./admin-helpers";
import { testEnv } from "./env";
import { testClock } from "./stand-ins";
import { fakePortOne, installFakePortOne, paymentContent } from "./portone-stand-in";
import { drain, forwarded, SILENT, webhook } from "./reconcile-helpers";

async function reconcile(): Promise<{ checked: number; changed: number }> {
  const response = await adminFetch("/reconcile", { method: "POST" });
  expect(response.status).toBe(200);
  return response.json();
}

beforeEach(() => {
  installFakePortOne();
  vi.spyOn(console, "warn").mockImplementation(() => undefined);
});

describe("a payment whose final webhook never came", () => {
  it("is found by POST /admin/reconcile, forwarded once with source reconciliation; the late webhook is a duplicate", async () => {
    const ref = uniqueRef("lost");
    expect(await webhook("payment", ref, "Pending")).toBe("accepted");
    fakePortOne.payments.set(ref, paymentContent(ref, "Success", 500));
    testClock.advance(SILENT);
    expect(await reconcile()).toEqual({ checked: 1, changed: 1 });
    await drain("payment", ref);
    const sent = forwarded().filter((e) => e.object_ref === ref);
    expect(sent.map((e) => [e.type, e.source])).toEqual([
      ["portone.payment.pending", "webhook"],
      ["portone.payment.success", "reconciliation"],
    ]);
    expect(sent[1]?.data).toMatchObject({ status: "Success", amount: 500, currency: "VND", order_ref: ref });
    expect(sent[1]?.previous_status).toBe("Pending");

    expect(await webhook("payment", ref, "Success")).toBe("duplicate");
    expect(forwarded().filter((e) => e.object_ref === ref)).toHaveLength(2);
    // Finished now: the next pass does not ask about it again.
    testClock.advance(SILENT);
    const calls = fakePortOne.calls.length;
    await reconcile();
    expect(fakePortOne.calls.slice(calls).some((c) => c.includes("transaction-details"))).toBe(false);
  });

  it("is not asked about while it is not yet silent for RECONCILE_AFTER_MINUTES", async () => {
    const ref = uniqueRef("fresh");
    await webhook("payment", ref, "Pending");
    fakePortOne.payments.set(ref, paymentContent(ref, "Success"));
    testClock.advance(5 * 60_000);
    await reconcile();
    expect(fakePortOne.calls.some((c) => c.includes("transaction-details"))).toBe(false);
  });

  it("a status the object already had changes nothing, and the next check waits longer", async () => {
    const ref = uniqueRef("same");
    await webhook("payment", ref, "Pending");
    fakePortOne.payments.set(ref, paymentContent(ref, "Pending"));
    testClock.advance(SILENT);
    await reconcile();
    await drain("payment", ref);
    expect(forwarded().filter((e) => e.object_ref === ref)).toHaveLength(1);
    const row = await env.READ_MODEL.prepare(
      "SELECT reconcile_checks, reconcile_after, reconciled_at FROM objects WHERE object_ref = ?",
    )
      .bind(ref)
      .first<{ reconcile_checks: number; reconcile_after: number; reconciled_at: number }>();
    expect(row?.reconcile_checks).toBe(1);
    expect((row?.reconcile_after ?? 0) - (row?.reconciled_at ?? 0)).toBe(5 * 60_000);
    const report = await ledgerOf(KINDS.payment, ref).inspect();
    expect(report.reconciliation).toMatchObject({ changed: 0, failure: null });
  });
  it("with RECONCILE_AFTER_MINUTES=0 every unfinished object is checked at every pass, whatever its backoff", async () => {
    const ref = uniqueRef("zero");
    await webhook("payment", ref, "Pending");
    fakePortOne.payments.set(ref, paymentContent(ref, "Pending"));
    const now = testEnv({ RECONCILE_AFTER_MINUTES: "0" });
    const pass = () =>
      worker.fetch(
        new Request("https://gateway.test/admin/reconcile", {
          method: "POST",
          headers: { authorization: `Bearer ${TOKEN}` },
        }),
        now,
        createExecutionContext(),
      );
    for (let i = 0; i < 2; i++) expect((await pass()).status).toBe(200);
    const row = await env.READ_MODEL.prepare("SELECT reconcile_checks FROM objects WHERE object_ref = ?")
      .bind(ref)
      .first<{ reconcile_checks: number }>();
    expect(row?.reconcile_checks).toBe(2);
  });
});

describe("what the API cannot say changes nothing", () => {
  it.each([
    ["unknown reference (4096)", null],
    ["a 500", "500"],
    ["a hang", "hang"],
    ["garbage", "garbage"],
  ] as const)("%s", async (_name, misbehaving) => {
    const ref = uniqueRef("noanswer");
    await webhook("payment", ref, "Pending");
    fakePortOne.misbehaving = misbehaving;
    testClock.advance(SILENT);
    const result = await reconcile();
    expect(result.changed).toBe(0);
    await drain("payment", ref);
    expect(
      forwarded()
        .filter((e) => e.object_ref === ref)
        .map((e) => e.status),
    ).toEqual(["Pending"]);
    const report = await ledgerOf(KINDS.payment, ref).inspect();
    expect(report.events).toHaveLength(1);
  });

  /** A pass over `count` silent pending payments while the API misbehaves: its calls and its error. */
  async function passWhile(misbehaving: "auth" | "500", count: number): Promise<{ calls: number; error?: string }> {
    for (let i = 0; i < count; i++) await webhook("payment", uniqueRef("stop"), "Pending");
    fakePortOne.misbehaving = misbehaving;
    testClock.advance(SILENT);
    const before = fakePortOne.calls.length;
    await reconcile();
    const pass = await env.READ_MODEL.prepare("SELECT error FROM reconcile_passes ORDER BY id DESC LIMIT 1").first<{
      error: string;
    }>();
    return { calls: fakePortOne.calls.length - before, ...(pass ? { error: pass.error } : {}) };
  }

  it("an auth error stops the pass and is shown to operators as a configuration problem", async () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    const { calls, error } = await passWhile("auth", 3);
    expect(calls).toBeLessThanOrEqual(4); // one batch was in flight when the first refusal came; none after
    expect(error).toMatch(/PortOne refused the credentials/);
  });

  it("three unavailable answers in a row stop the pass (PortOne is not hammered)", async () => {
    const { calls, error } = await passWhile("500", 10);
    expect(calls).toBeLessThanOrEqual(4);
    expect(error).toMatch(/unavailable/);
  });
});

describe("payment links and subscriptions", () => {
  it("a payment link's status comes from fetch-status; its paid transaction gives the amount", async () => {
    const ref = uniqueRef("link");
    await webhook("payment-link", ref, "Created");
    fakePortOne.payments.set(`${ref}_pay`, {
      ...paymentContent(`${ref}_pay`, "Success", 750),
      merchant_order_ref: "M1",
    });
    fakePortOne.links.set(ref, {
      paymentLinkRef: ref,
      merchantOrderRef: "M1",
      status: "Success",
      transactionsList: [
        {
          merchantOrderRef: "M1",
          channelOrderRef: "0",
          status: "Success",
          statusCode: "2000",
          createdAt: "2026-11-30T09:00:00Z",
        },
      ],
    });
    testClock.advance(SILENT);
    await reconcile();
    await drain("payment-link", ref);
    const sent = forwarded().filter((e) => e.object_ref === ref);
    expect(sent.map((e) => [e.type, e.source])).toEqual([
      ["portone.payment_link.created", "webhook"],
      ["portone.payment_link.success", "reconciliation"],
    ]);
    expect(sent[1]?.data).toMatchObject({
      link_ref: ref,
      transactions: [{ merchant_order_ref: "M1", status: "Success" }],
      order_ref: `${ref}_pay`,
      amount: 750,
      currency: "VND",
    });
  });

  it("a subscription's two charges from txns-records are forwarded once each", async () => {
    const ref = uniqueRef("sub");
    const charge = (n: number, status = "Success") => ({
      order_ref: `${ref}_c${n}`,
      merchant_order_ref: `S_${n}`,
      amount: 103,
      currency: "VND",
      status,
      created_at: `2026-1${n}-01T00:00:00Z`,
    });
    fakePortOne.charges.set(ref, [charge(0), charge(1)]);
    fakePortOne.subscriptions.set(ref, { status: "Active", currency: "VND", collected_count: 2 });
    expect(await webhook("subscription-link", ref, "Active")).toBe("accepted");
    // PortOne's next Active carries the same signed fields: a duplicate, which learns nothing new.
    expect(await webhook("subscription-link", ref, "Active")).toBe("duplicate");
    const charges = () => forwarded().filter((e) => e.kind === "subscription_charge");
    // On the subscription's object: object_ref is the subscription's order_ref, the charge's own in data.
    expect(charges().map((e) => [e.type, e.object_ref, e.data.order_ref, e.source])).toEqual([
      ["portone.subscription_charge.success", ref, `${ref}_c0`, "reconciliation"],
      ["portone.subscription_charge.success", ref, `${ref}_c1`, "reconciliation"],
    ]);
    expect(charges()[0]?.data).toMatchObject({ amount: 103, currency: "VND", subscription_order_ref: ref });
    // A third charge, first failed then retried: each pass while the subscription is active reads them.
    fakePortOne.charges.set(ref, [charge(0), charge(1), charge(2, "Failed")]);
    testClock.advance(SILENT);
    await reconcile();
    await drain("subscription-link", ref);
    fakePortOne.charges.set(ref, [charge(0), charge(1), charge(2, "Failed"), charge(3)]);
    await reconcile(); // an active subscription is read at every pass
    await drain("subscription-link", ref);
    expect(charges().map((e) => [e.object_ref, e.data.order_ref, e.status])).toEqual([
      [ref, `${ref}_c0`, "Success"],
      [ref, `${ref}_c1`, "Success"],
      [ref, `${ref}_c2`, "Failed"],
      [ref, `${ref}_c3`, "Success"],
    ]);
    expect(
      forwarded()
        .filter((e) => e.object_ref === ref && e.kind === "subscription_link")
        .map((e) => e.status),
    ).toEqual(["Active"]);
  });
});

describe("operators", () => {
  it("see the last pass, each object's last check, and an auth error as a configuration problem", async () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    const ref = uniqueRef("seen");
    await webhook("payment", ref, "Pending");
    fakePortOne.payments.set(ref, paymentContent(ref, "Success"));
    testClock.advance(SILENT);
    await reconcile();
    await drain("payment", ref);
    const login = await worker.fetch(
      new Request("https://gateway.test/console/login", {
        method: "POST",
        redirect: "manual",
        headers: { "content-type": "application/x-www-form-urlencoded", origin: "https://gateway.test" },
        body: new URLSearchParams({ token: TOKEN }).toString(),
      }),
      env,
      createExecutionContext(),
    );
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    const page = async (path: string) =>
      (
        await worker.fetch(
          new Request(`https://gateway.test${path}`, { headers: { cookie } }),
          env,
          createExecutionContext(),
        )
      ).text();
    const overview = await page("/console");
    expect(overview).toMatch(/Reconciliation with PortOne/);
    expect(overview).toMatch(/objects checked/);
    expect(overview).not.toMatch(/Configuration problem/);
    const object = await page(`/console/objects/portone/payment/${ref}`);
    expect(object).toMatch(/Last checked with PortOne&#39;s API|Last checked with PortOne's API/);
    expect(object).toMatch(/from PortOne/);

    const other = uniqueRef("seen");
    await webhook("payment", other, "Pending");
    fakePortOne.misbehaving = "auth";
    testClock.advance(SILENT);
    await reconcile();
    expect(await page("/console")).toMatch(/Configuration problem/);
  });
});
