// The operator console, server side (the browser tests in browser/ drive it in Chromium): closed
// without ADMIN_TOKEN, a login that sets a hardened session cookie, sessions required, CSRF checks
// on every POST, and pages that show ids and states but nothing secret or personal.
import { createExecutionContext, runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import { TOKEN } from "./admin-helpers";
import { testEnv } from "./env";
import { refundSample } from "../fixtures/portone-samples";
import { BASE, KINDS, deliver, eventFor, ledgerOf, post, uniqueRef } from "./helpers";
import { portoneApi } from "./stand-ins";

function request(path: string, init: RequestInit = {}, e: Env = env): Promise<Response> {
  return Promise.resolve(
    worker.fetch(new Request(`${BASE}${path}`, { redirect: "manual", ...init }), e, createExecutionContext()),
  );
}

function form(fields: Record<string, string>, headers: Record<string, string> = { origin: BASE }): RequestInit {
  return {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams(fields).toString(),
  };
}

async function login(): Promise<string> {
  const response = await request("/console/login", form({ token: TOKEN }));
  expect(response.status).toBe(303);
  expect(response.headers.get("location")).toBe("/console");
  const cookie = response.headers.get("set-cookie") ?? "";
  expect(cookie).toMatch(/HttpOnly/);
  expect(cookie).toMatch(/SameSite=Strict/);
  expect(cookie).toMatch(/Path=\/console/);
  expect(cookie).toMatch(/Secure/); // https://gateway.test is not loopback
  return cookie.split(";")[0] ?? "";
}

const csrfOf = (html: string): string => /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? "";

describe("the console", () => {
  it("is 404 without ADMIN_TOKEN, on every page and the login", async () => {
    const closed = testEnv({ ADMIN_TOKEN: undefined });
    for (const path of ["/console", "/console/login", "/console/events"]) {
      expect((await request(path, {}, closed)).status).toBe(404);
    }
    expect((await request("/console/login", form({ token: "x" }), closed)).status).toBe(404);
  });

  it("sends a request without a session to the login form, and refuses a wrong token", async () => {
    const page = await request("/console/events");
    expect(page.status).toBe(303);
    expect(page.headers.get("location")).toBe("/console/login");
    const login = await request("/console/login");
    expect(await login.text()).toContain('type="password" name="token"');
    const wrong = await request("/console/login", form({ token: "not-the-token" }));
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("set-cookie")).toBeNull();
    const forged = await request("/console", { headers: { cookie: "console_session=abc.123" } });
    expect(forged.status).toBe(303);
  });

  it("refuses a cross-site POST, and a POST without the session's CSRF token", async () => {
    const cookie = await login();
    const crossSite = await request("/console/login", form({ token: TOKEN }, { origin: "https://evil.example" }));
    expect(crossSite.status).toBe(403);
    const overview = await request("/console", { headers: { cookie } });
    const csrf = csrfOf(await overview.text());
    expect(csrf).not.toBe("");
    const action = "/console/dead-letters/redeliver";
    expect((await request(action, form({ csrf }, { origin: "https://evil.example", cookie }))).status).toBe(403);
    expect((await request(action, form({}, { origin: BASE, cookie }))).status).toBe(403);
    expect((await request(action, form({ csrf: "forged" }, { origin: BASE, cookie }))).status).toBe(403);
    const ok = await request(action, form({ csrf }, { origin: BASE, cookie }));
    expect(ok.status).toBe(303);
  });

  it("finds an event by merchant_order_ref and shows its id, type, status and delivery as text, nothing personal", async () => {
    const [ref, merchantRef] = [uniqueRef("con"), uniqueRef("order")];
    await deliver("payment", await eventFor("payment", ref, "Success", { merchant_order_ref: merchantRef }));
    expect(await runDurableObjectAlarm(ledgerOf(KINDS.payment, ref))).toBe(true);
    const cookie = await login();
    const page = await request(`/console/events?q=${merchantRef}`, { headers: { cookie } });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toContain("default-src 'none'");
    const html = await page.text();
    expect(html).toContain("portone.payment.success");
    expect(html).toContain(">delivered<");
    expect(html).toMatch(/evt_[0-9a-f]{32}/);
    const timeline = await request(`/console/objects/portone/payment/${ref}`, { headers: { cookie } });
    const body = await timeline.text();
    expect(body).toContain("Redeliver");
    for (const secret of [TOKEN, "buyer@example.com", "+15550100000", "4242"]) {
      expect(html).not.toContain(secret);
      expect(body).not.toContain(secret);
    }
  });

  it("redelivers from an object's timeline and shows the new attempt", async () => {
    const ref = uniqueRef("con-re");
    await deliver("payment", await eventFor("payment", ref, "Pending"));
    const stub = ledgerOf(KINDS.payment, ref);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const cookie = await login();
    const path = `/console/objects/portone/payment/${ref}`;
    const html = await (await request(path, { headers: { cookie } })).text();
    const action = /<form class="inline" method="post" action="([^"]+\/redeliver)"/.exec(html)?.[1] ?? "";
    const done = await request(action, form({ csrf: csrfOf(html) }, { origin: BASE, cookie }));
    expect(done.status).toBe(303);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const after = await (await request(`${path}?done=redelivered`, { headers: { cookie } })).text();
    expect(after.match(/<li>/g)).toHaveLength(2);
    expect(after).toContain("Re-queued");
  });

  it("counts a hint awaiting its provider's API on the overview and shows it on its object's page", async () => {
    const [paymentRef, refundId] = [uniqueRef("con-hint"), uniqueRef("rf")];
    portoneApi.answer(() => Response.json({ refundDetails: [] }));
    await post("/webhooks/portone/refund", { ...refundSample, payment_txn_ref: paymentRef, refund_id: refundId });
    expect(await runDurableObjectAlarm(ledgerOf(KINDS.payment, paymentRef))).toBe(true);
    const cookie = await login();
    const overview = await (await request("/console", { headers: { cookie } })).text();
    expect(overview).toContain("Hints awaiting a provider&#39;s API");
    expect(overview).toMatch(/<b>[1-9]\d*<\/b>being confirmed/);
    const href = `/console/objects/portone/payment/${paymentRef}`;
    expect(overview).toContain(`href="${href}"`);
    const page = await (await request(href, { headers: { cookie } })).text();
    expect(page).toContain(`<code>${refundId}</code>`);
    expect(page).toMatch(/<td>PortOne<\/td><td>SUCCESS<\/td><td><span class="state confirming">confirming<\/span>/);
  });

  it("shows each destination's state and breaker, and pauses and resumes one with a form", async () => {
    const cookie = await login();
    const page = await (await request("/console/destinations", { headers: { cookie } })).text();
    for (const name of ["default", "erp", "limited", "analytics"]) expect(page).toContain(`<td>${name}</td>`);
    expect(page).toContain(">closed<");
    expect(page).not.toContain("whsec_");
    const action = /action="(\/console\/destinations\/erp\/pause)"/.exec(page)?.[1] ?? "";
    const done = await request(action, form({ csrf: csrfOf(page) }, { origin: BASE, cookie }));
    expect(done.status).toBe(303);
    const after = await (await request("/console/destinations", { headers: { cookie } })).text();
    expect(after).toContain("/console/destinations/erp/resume");
    const resume = await request(
      "/console/destinations/erp/resume",
      form({ csrf: csrfOf(after) }, { origin: BASE, cookie }),
    );
    expect(resume.status).toBe(303);
  });

  it("links an object whose ref holds a colon to its own timeline, not a 404", async () => {
    const ref = `${uniqueRef("con-colon")}:part:2`;
    await deliver("payment", await eventFor("payment", ref, "Success"));
    expect(await runDurableObjectAlarm(ledgerOf(KINDS.payment, ref))).toBe(true);
    const cookie = await login();
    const html = await (await request(`/console/events?q=${encodeURIComponent(ref)}`, { headers: { cookie } })).text();
    const href = /href="(\/console\/objects\/[^"]+)"/.exec(html)?.[1] ?? "";
    expect(href).toBe(`/console/objects/portone/payment/${encodeURIComponent(ref)}`);
    const timeline = await request(href.replaceAll("&amp;", "&"), { headers: { cookie } });
    expect(timeline.status).toBe(200);
    expect(await timeline.text()).toContain(ref);
  });

  it("sends a destination's test event from its row and opens the test object's timeline", async () => {
    const cookie = await login();
    const page = await (await request("/console/destinations", { headers: { cookie } })).text();
    expect(page).toContain('action="/console/destinations/analytics/test"');
    const sent = await request(
      "/console/destinations/analytics/test",
      form({ csrf: csrfOf(page) }, { origin: BASE, cookie }),
    );
    expect(sent.status).toBe(303);
    const location = sent.headers.get("location") ?? "";
    expect(location).toBe("/console/objects/gateway/test/analytics?done=test");
    const timeline = await request(location, { headers: { cookie } });
    expect(timeline.status).toBe(200);
    expect(await timeline.text()).toContain("Test event queued");
  });
});
