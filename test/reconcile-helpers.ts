// Shared by the reconciliation tests: a genuine webhook whose object then forwards it and tells the
// read model, draining an object's alarms, what the origin took, and a pass run through the admin API.
import { createExecutionContext, runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import worker from "../src/index";
import { TOKEN } from "./admin-helpers";
import { KINDS, deliver, eventFor, ledgerOf, resultOf, type Slug } from "./helpers";
import { envelope, origin } from "./stand-ins";

/** How long an object must be silent to be checked (RECONCILE_AFTER_MINUTES is 30 in the tests). */
export const SILENT = 31 * 60_000;

/** Sends a genuine webhook and lets its object forward it and tell the read model. */
export async function webhook(
  slug: Slug,
  ref: string,
  status: string,
  extra: Record<string, unknown> = {},
): Promise<string> {
  const result = await resultOf(await deliver(slug, await eventFor(slug, ref, status, extra)));
  await drain(slug, ref);
  return result;
}

export async function drain(slug: Slug, ref: string): Promise<void> {
  while (await runDurableObjectAlarm(ledgerOf(KINDS[slug], ref)));
}

/** Every envelope the origin took, in order. */
export const forwarded = () => origin.acknowledged.map((r) => envelope(r));

/** One pass through POST /admin/reconcile, with the given environment. */
export async function pass(e: Env = env): Promise<{ checked: number; changed: number }> {
  const response = await worker.fetch(
    new Request("https://gateway.test/admin/reconcile", {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}` },
    }),
    e,
    createExecutionContext(),
  );
  expect(response.status).toBe(200);
  return response.json();
}
