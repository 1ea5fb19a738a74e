// A read model whose tables were never created (the D1 migrations not applied) answers 503 with a
// code and a message naming the command that applies them, never 500; ingest and delivery go on.
import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { PAYMENT } from "../src/providers/portone/kinds";
import { adminFetch, TOKEN } from "./admin-helpers";
import { BASE, deliver, eventFor, ledgerOf, resultOf, uniqueRef } from "./helpers";
import { envelope, origin } from "./stand-ins";
import worker from "../src/index";
import { createExecutionContext } from "cloudflare:test";

const TABLES = ["events", "objects", "reconcile_passes"];

async function withoutTables(run: () => Promise<void>): Promise<void> {
  for (const t of TABLES) await env.READ_MODEL.exec(`ALTER TABLE ${t} RENAME TO ${t}_away`);
  try {
    await run();
  } finally {
    for (const t of TABLES) await env.READ_MODEL.exec(`ALTER TABLE ${t}_away RENAME TO ${t}`);
  }
}

async function consolePage(path: string): Promise<Response> {
  const login = await worker.fetch(
    new Request(`${BASE}/console/login`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: BASE },
      body: `token=${TOKEN}`,
      redirect: "manual",
    }),
    env,
    createExecutionContext(),
  );
  const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
  return worker.fetch(new Request(`${BASE}${path}`, { headers: { cookie } }), env, createExecutionContext());
}

describe("a read model without its tables", () => {
  it("answers 503 read_model_not_migrated naming the migrations command; webhooks still flow", async () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    vi.spyOn(console, "warn").mockImplementation(() => undefined);
    await withoutTables(async () => {
      for (const path of ["/dead-letters", "/events", "/stats"]) {
        const response = await adminFetch(path);
        expect(response.status, path).toBe(503);
        const body = await response.json<{ error: string; message: string }>();
        expect(body.error).toBe("read_model_not_migrated");
        expect(body.message).toContain("wrangler d1 migrations apply READ_MODEL");
      }
      for (const path of ["/console", "/console/events", "/console/dead-letters"]) {
        const response = await consolePage(path);
        expect(response.status, path).toBe(503);
        expect(response.headers.get("content-type"), path).toMatch(/^text\/html/); // a page for people
        expect(await response.text()).toContain("d1 migrations apply");
      }
      const ref = uniqueRef("rm-missing");
      expect(await resultOf(await deliver("payment", await eventFor("payment", ref, "Success")))).toBe("accepted");
      expect(await runDurableObjectAlarm(ledgerOf(PAYMENT, ref))).toBe(true);
      expect(origin.acknowledged.map((r) => envelope(r).object_ref)).toEqual([ref]);
    });
  });
});
