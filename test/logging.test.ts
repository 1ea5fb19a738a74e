// Logs: one JSON line per decision with ids, never the secret, never payload data (buyer e-mail,
// masked card number); LOG_LEVEL=warn drops the per-event info lines and keeps warnings.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import worker from "../src/index";
import { setLogLevel } from "../src/lib/log";
import { BASE, eventFor, signedPayload, uniqueRef } from "./helpers";
import { testEnv } from "./env";

function capture() {
  const lines: string[] = [];
  for (const method of ["log", "warn", "error"] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(" ")));
  }
  return lines;
}

async function send(body: Record<string, unknown>, logLevel: string): Promise<number> {
  const ctx = createExecutionContext();
  const request = new Request(`${BASE}/webhooks/portone/payment`, { method: "POST", body: JSON.stringify(body) });
  const response = await worker.fetch(request, testEnv({ LOG_LEVEL: logLevel }), ctx);
  await waitOnExecutionContext(ctx);
  return response.status;
}

afterEach(() => {
  setLogLevel("info");
  vi.restoreAllMocks();
});

describe("logs", () => {
  it("record each decision as JSON with ids, without the secret or payload data", async () => {
    const lines = capture();
    const ref = uniqueRef("log");
    expect(await send(await eventFor("payment", ref, "Success"), "info")).toBe(200);
    expect(await send({ ...(await signedPayload("payment", { order_ref: ref })), amount: 1 }, "info")).toBe(401);
    const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(entries).toContainEqual(
      expect.objectContaining({ level: "info", msg: "webhook accepted", object_ref: ref, kind: "payment" }),
    );
    expect(entries).toContainEqual(
      expect.objectContaining({ level: "warn", msg: "webhook rejected", reason: "bad_signature" }),
    );
    const all = lines.join("\n");
    for (const secretOrData of ["PORTONE_SECRET", "buyer@example.com", "************4242", "+15550100000"])
      expect(all).not.toContain(secretOrData);
  });

  it("log each webhook's decision once at info; the edge hint's repeats only at debug", async () => {
    const ref = uniqueRef("once");
    const event = await eventFor("payment", ref, "Paid");
    const msgs = (lines: string[]) => lines.map((l) => (JSON.parse(l) as { msg: string }).msg);
    let lines = capture();
    expect(await send(event, "info")).toBe(200); // new
    expect(await send(event, "info")).toBe(200); // first redelivery: the ledger answers, the marker is written
    expect(await send(event, "info")).toBe(200); // answered by the edge hint
    expect(msgs(lines)).toEqual(["webhook accepted", "webhook duplicate"]);
    vi.restoreAllMocks();
    lines = capture();
    expect(await send(event, "debug")).toBe(200);
    expect(msgs(lines)).toEqual(["webhook duplicate (edge hint)"]);
  });

  it("LOG_LEVEL=warn drops the info lines and keeps the warnings", async () => {
    const ref = uniqueRef("quiet");
    // Wake the object first: its constructor reads LOG_LEVEL from the test configuration ("info").
    expect(await send(await eventFor("payment", ref, "Pending"), "info")).toBe(200);
    const lines = capture();
    expect(await send(await eventFor("payment", ref, "Success"), "warn")).toBe(200);
    expect(lines).toEqual([]);
    expect(await send({ ...(await signedPayload("payment", { order_ref: ref })), amount: 1 }, "warn")).toBe(401);
    expect(lines).toHaveLength(1);
  });
});
