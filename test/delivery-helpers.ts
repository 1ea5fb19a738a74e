// Shared by the delivery tests (envelope, retries, eviction): fire an object's alarm at a moved
// clock, record an event, and verify what the origin received with the independent
// standardwebhooks library. Alarms are fired with runDurableObjectAlarm: no sleeps.
import { runDurableObjectAlarm } from "cloudflare:test";
import { Webhook } from "standardwebhooks";
import { expect, vi } from "vitest";
import { KINDS, deliver, eventFor, ledgerOf, resultOf } from "./helpers";
import { envelope, testClock, type Envelope, type Received } from "./stand-ins";

export const FORWARD_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
export const LINK = KINDS["payment-link"];

export const ids = (list: Received[]) => list.map((r) => envelope(r).id);

/** The standardwebhooks library checks the timestamp against Date.now(): verify at the test clock. */
export function verifyAtClock(request: Received, secret = FORWARD_SECRET): Envelope {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(testClock.now);
  try {
    return new Webhook(secret).verify(request.body, request.headers) as Envelope;
  } finally {
    vi.useRealTimers();
  }
}

/** Moves the injected clock and fires the object's alarm once; says whether an alarm ran. */
export async function after(ms: number, ref: string, kind = LINK): Promise<boolean> {
  testClock.advance(ms);
  return runDurableObjectAlarm(ledgerOf(kind, ref));
}

export async function accept(slug: "payment-link" | "payment", ref: string, status: string): Promise<void> {
  expect(await resultOf(await deliver(slug, await eventFor(slug, ref, status)))).toBe("accepted");
}
