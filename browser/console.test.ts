// The operator console in a real browser: Playwright drives Debian's Chromium (/usr/bin/chromium;
// Playwright's own browser download is not used) against `npm run dev` with the committed local
// defaults, a local merchant origin, and events sent by `npm run simulate`. Screenshots of what a
// person sees are written to .screenshots/ (ignored), or to docs/ with DOCS_SCREENSHOTS=1 to refresh
// the documentation's pictures (a plain run leaves the clone clean).
// Run: `npm run test:browser` (needs `apt-get install chromium`).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import { startPortOneStandIn, type PortOneStandIn } from "../scripts/portone-stand-in.mjs";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SHOTS = join(ROOT, process.env.DOCS_SCREENSHOTS === "1" ? "docs" : ".screenshots");
mkdirSync(SHOTS, { recursive: true });
/** Where a screenshot goes: docs/ when refreshing the documentation, else the ignored .screenshots/. */
const shot = (name: string): string => join(SHOTS, name);
const PORT = 8791;
const GATEWAY = `http://127.0.0.1:${PORT}`;
const TOKEN = "local-admin-token"; // .dev.vars.example
const RUN = Date.now().toString(36);
const PICKY_SECRET = "whsec_cGlja3ktYnJvd3Nlci1zZWNyZXQtMDEyMzQ1Njc=";

let dev: ChildProcess;
let origin: http.Server;
/** Every envelope the origin took, parsed. */
const received: Array<{ type: string; object_ref: string; source: string }> = [];
let portone: PortOneStandIn;
/** The early_ objects whose first attempt the origin answered 409. */
const early = new Set<string>();
let originUrl = "";
let browser: Browser;
const state = mkdtempSync(join(tmpdir(), "gateway-browser-"));

/** A merchant origin that takes every forward, and serves a cross-site page that posts to the console. */
function startOrigin(): Promise<void> {
  origin = http.createServer((req, res) => {
    if (req.url === "/evil") {
      res.writeHead(200, { "content-type": "text/html" });
      res.end(`<form id="f" method="post" action="${GATEWAY}/console/dead-letters/redeliver">
        <input name="csrf" value="guess"></form><script>document.getElementById("f").submit()</script>`);
      return;
    }
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const event = JSON.parse(Buffer.concat(chunks).toString("utf8")) as (typeof received)[number];
      // A system that learns of an early_ order late: its first attempt is answered 409.
      if (event.object_ref.startsWith("early_") && !early.has(event.object_ref)) {
        early.add(event.object_ref);
        res.writeHead(409).end("order not known yet");
        return;
      }
      received.push(event);
      res.writeHead(204).end();
    });
  });
  return new Promise((resolve) =>
    origin.listen(0, "127.0.0.1", () => {
      originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
      resolve();
    }),
  );
}

async function waitForGateway(): Promise<void> {
  for (let i = 0; i < 120; i++) {
    try {
      if ((await fetch(`${GATEWAY}/console/login`)).status === 200) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error("npm run dev did not answer within 60 s");
}

function simulate(...args: string[]): string {
  return execFileSync(
    process.execPath,
    [join(ROOT, "node_modules/tsx/dist/cli.mjs"), join(ROOT, "scripts/simulate.ts"), ...args, "--url", GATEWAY],
    {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "ignore"],
      encoding: "utf8",
      env: { ...process.env, PORTONE_SECRET_KEY: "PORTONE_SECRET" },
    },
  );
}

async function login(page: Page): Promise<void> {
  await page.goto(`${GATEWAY}/console/login`);
  await page.fill('input[name="token"]', TOKEN);
  await page.click('button[type="submit"]');
  await page.waitForURL(`${GATEWAY}/console`);
}

/** Reloads until the text appears (the read model and the alarms trail by seconds). */
async function eventually(page: Page, text: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if ((await page.content()).includes(text)) return;
    if (Date.now() > deadline) throw new Error(`"${text}" did not appear on ${page.url()}`);
    await new Promise((r) => setTimeout(r, 500));
    await page.reload();
  }
}

before(async () => {
  await startOrigin();
  portone = await startPortOneStandIn(0);
  const portoneUrl = `http://127.0.0.1:${(portone.server.address() as AddressInfo).port}`;
  const vars = [
    `MERCHANT_ORIGIN_URL:${originUrl}/webhooks`,
    `PORTONE_API_BASE_URL:${portoneUrl}`,
    "RECONCILE_AFTER_MINUTES:0",
  ];
  // The committed defaults plus a destination with a filter (only JPY payments) on the same origin.
  const envFile = join(state, "dev.vars");
  const picky = { url: `${originUrl}/picky`, secret: PICKY_SECRET, filter: { data: { currency: ["JPY"] } } };
  writeFileSync(
    envFile,
    `${readFileSync(join(ROOT, ".dev.vars.example"), "utf8")}\nDESTINATIONS=${JSON.stringify({ picky })}\n`,
  );
  dev = spawn(process.execPath, [join(ROOT, "scripts/dev.mjs"), ...vars.flatMap((v) => ["--var", v])], {
    cwd: ROOT,
    stdio: "ignore",
    env: { ...process.env, DEV_PORT: String(PORT), DEV_ENV_FILE: envFile, DEV_PERSIST_TO: state },
    detached: true,
  });
  await waitForGateway();
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
});

after(async () => {
  await browser?.close();
  if (dev?.pid) process.kill(-dev.pid, "SIGTERM");
  origin?.close();
  portone?.server.close();
  rmSync(state, { recursive: true, force: true });
});

void describe("the operator console in Chromium", () => {
  void it("refuses a wrong token and sends a visitor without a session to the login form", async () => {
    const page = await browser.newPage();
    const events = await page.goto(`${GATEWAY}/console/events`);
    assert.equal(new URL(page.url()).pathname, "/console/login");
    assert.equal(events?.status(), 200);
    await page.fill('input[name="token"]', "wrong-token");
    const [answer] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === "POST"),
      page.click('button[type="submit"]'),
    ]);
    assert.equal(answer.status(), 401);
    assert.match(await page.content(), /That is not the admin token/);
    await page.screenshot({ path: shot("console-login.png") });
    await page.close();
  });

  void it("logs in, finds an event by merchant_order_ref, opens its timeline, redelivers, and sees the attempt", async () => {
    const [ref, merchantRef] = [`browser_${RUN}`, `order_${RUN}`];
    simulate("payment", "Pending", "--ref", ref, "--merchant-order-ref", merchantRef);
    simulate("payment", "Success", "--ref", ref, "--merchant-order-ref", merchantRef);
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    await login(page);
    await page.click('header a:text("Events")');
    await page.fill('input[name="q"]', merchantRef);
    await page.click('form.search button[type="submit"]');
    await eventually(page, "portone.payment.success");
    await eventually(page, ">delivered<");
    const rows = await page.locator("tbody tr").allInnerTexts();
    assert.equal(rows.length, 2);
    assert.match(rows[0] ?? "", /portone\.payment\.success.*Success.*delivered.*evt_[0-9a-f]{32}/s);
    await page.screenshot({ path: shot("console-events.png"), fullPage: true });

    await page.click(`a:text("${ref}") >> nth=0`);
    await page.waitForURL(`${GATEWAY}/console/objects/portone/payment/${ref}`);
    assert.equal(await page.locator("ol li").count(), 2);
    await page.click('form.inline button:text("Redeliver") >> nth=0');
    await page.waitForURL(/done=redelivered/);
    assert.match(await page.content(), /Re-queued/);
    await eventually(page, "</li><li>");
    const attempts = await page.locator("tbody tr >> nth=0").locator("ol li").count();
    assert.equal(attempts, 2, "the redelivered event shows a second attempt");
    await page.screenshot({ path: shot("console-timeline.png"), fullPage: true });

    await page.goto(`${GATEWAY}/console/destinations`);
    assert.match(await page.content(), />closed</);
    await page.screenshot({ path: shot("console-destinations.png"), fullPage: true });

    await page.goto(`${GATEWAY}/console`);
    await eventually(page, "latency p95");
    await page.screenshot({ path: shot("console-overview.png"), fullPage: true });
    await page.close();
  });

  void it("finds a payment whose Success webhook never came, forwards it once, and shows the pass", async () => {
    const ref = `lost_${RUN}`;
    assert.match(simulate("payment", "Pending", "--ref", ref), /"accepted"/);
    await fetch(`http://127.0.0.1:${(portone.server.address() as AddressInfo).port}/__state`, {
      method: "PUT",
      body: JSON.stringify({ payments: { [ref]: { status: "Success", amount: 500, currency: "VND" } } }),
    });
    const pass = await fetch(`${GATEWAY}/admin/reconcile`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    assert.equal(pass.status, 200);
    assert.ok(((await pass.json()) as { changed: number }).changed >= 1);
    const mine = () => received.filter((e) => e.object_ref === ref).map((e) => `${e.type} ${e.source}`);
    for (let i = 0; i < 40 && mine().length < 2; i++) await new Promise((r) => setTimeout(r, 250));
    assert.deepEqual(mine(), ["portone.payment.pending webhook", "portone.payment.success reconciliation"]);
    assert.match(simulate("payment", "Success", "--ref", ref), /"duplicate"/);

    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    await login(page);
    await page.goto(`${GATEWAY}/console/objects/portone/payment/${ref}`);
    await eventually(page, "from PortOne");
    assert.match(await page.content(), /Last checked with PortOne/);
    await page.screenshot({ path: shot("console-reconciled.png"), fullPage: true });
    await page.goto(`${GATEWAY}/console`);
    await eventually(page, "objects checked");
    await page.screenshot({ path: shot("console-overview.png"), fullPage: true });
    assert.deepEqual(mine(), ["portone.payment.pending webhook", "portone.payment.success reconciliation"]);
    await page.close();
  });

  void it("refuses a cross-site POST even with the session cookie", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await login(page);
    const [answer] = await Promise.all([
      page.waitForResponse((r) => r.url().startsWith(`${GATEWAY}/console/dead-letters/redeliver`)),
      page.goto(`${originUrl}/evil`),
    ]);
    assert.equal(answer.status(), 403);
    await context.close();
  });

  void it("shows what needs an operator: open alerts on the overview and on /console/alerts", async () => {
    for (let i = 0; i < 25; i++) {
      const forged = { order_ref: `forged_${RUN}_${i}`, status: "Success", signature_hash: "A".repeat(43) + "=" };
      const answer = await fetch(`${GATEWAY}/webhooks/portone/payment`, {
        method: "POST",
        body: JSON.stringify(forged),
      });
      assert.equal(answer.status, 401);
    }
    const admin = (path: string) =>
      fetch(`${GATEWAY}/admin/destinations/default/${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}` },
      });
    assert.equal((await admin("pause")).status, 200);
    assert.equal((await admin("resume")).status, 200);
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    await login(page);
    await eventually(page, "ingest.signature_failures:/webhooks/portone/payment");
    assert.match(await page.content(), /Open alerts/);
    await page.click('header a:text("Alerts")');
    await page.waitForURL(`${GATEWAY}/console/alerts`);
    const open = await page.locator("table.alerts >> nth=0").locator("tbody tr").allInnerTexts();
    assert.ok(open.some((row) => /warning.*ingest\.signature_failures.*bad signature/s.test(row)));
    const resolved = await page.locator("table.alerts >> nth=1").locator("tbody tr").allInnerTexts();
    assert.ok(resolved.some((row) => /info.*destination\.paused:default/s.test(row)));
    await page.screenshot({ path: shot("console-alerts.png"), fullPage: true });
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true });
    await login(phone);
    await phone.goto(`${GATEWAY}/console/alerts`);
    await phone.screenshot({ path: shot("console-alerts-phone.png"), fullPage: true });
    await phone.close();
    await page.close();
  });

  void it("shows a new object's not-ready attempt and a filtered destination on its timeline, and the audit log", async () => {
    const ref = `early_${RUN}`;
    assert.match(simulate("payment", "Success", "--ref", ref), /"accepted"/); // USD: picky takes only JPY
    for (let i = 0; i < 60 && !received.some((e) => e.object_ref === ref); i++)
      await new Promise((r) => setTimeout(r, 250));
    assert.ok(
      received.some((e) => e.object_ref === ref),
      "delivered after the not-ready answer, within 15 s",
    );
    for (const [width, height, name] of [
      [1280, 900, "desktop"],
      [390, 844, "phone"],
    ] as const) {
      const page = await browser.newPage({ viewport: { width, height }, isMobile: width < 500 });
      await login(page);
      await page.goto(`${GATEWAY}/console/objects/portone/payment/${ref}`);
      await eventually(page, "not ready");
      const timeline = await page.locator("table.timeline tbody tr >> nth=0").innerText();
      assert.match(timeline, /delivered/);
      assert.match(timeline, /filtered at picky/);
      assert.match(timeline, /not ready.*HTTP 409.*delivered/s);
      await page.screenshot({ path: shot(`console-not-ready-${name}.png`), fullPage: true });
      await page.goto(`${GATEWAY}/console/audit`);
      await eventually(page, "destination.pause");
      const rows = await page.locator("table.audit tbody tr").allInnerTexts();
      assert.ok(rows.some((row) => /destination\.pause.*default.*ok/s.test(row)));
      assert.ok(rows.some((row) => /token.*console\.login/s.test(row)));
      assert.ok(!(await page.content()).includes(TOKEN), "the audit page never shows the token");
      await page.screenshot({ path: shot(`console-audit-${name}.png`), fullPage: true });
      await page.close();
    }
  });

  void it("fits a 1280 px desktop and a 390 px phone: no page overflow, no table wider than its box", async () => {
    const ref = `widths_${RUN}`;
    simulate("payment", "Pending", "--ref", ref);
    simulate("payment", "Success", "--ref", ref);
    const pages = [
      "/console/events",
      `/console/objects/portone/payment/${ref}`,
      "/console/destinations",
      "/console",
      "/console/alerts",
      "/console/audit",
    ];
    for (const [width, height, name] of [
      [1280, 900, "desktop"],
      [390, 844, "phone"],
    ] as const) {
      const page = await browser.newPage({ viewport: { width, height }, isMobile: width < 500 });
      await login(page);
      for (const path of pages) {
        await page.goto(`${GATEWAY}${path}`);
        if (path.includes("/objects/")) await eventually(page, "Timeline");
        // Against the width asked, not innerWidth: a phone browser widens its layout viewport to fit overflow.
        const overflow = Number(await page.evaluate(`document.documentElement.scrollWidth - ${width}`));
        assert.ok(overflow <= 1, `${path} at ${width} px is ${overflow}px wider than the screen`);
        const clipped = Number(
          await page.evaluate(
            "Math.max(0, ...[...document.querySelectorAll('table')].map((t) => t.scrollWidth - t.parentElement.clientWidth))",
          ),
        );
        assert.ok(
          clipped <= 1,
          `${path} at ${width} px has a table ${clipped}px wider than its box (a clipped column)`,
        );
        if (path.includes("/objects/"))
          await page.screenshot({ path: shot(`console-timeline-${name}.png`), fullPage: true });
        if (path === "/console/events" && name === "phone") await page.screenshot({ path: shot("console-phone.png") });
      }
      await page.close();
    }
  });
});
