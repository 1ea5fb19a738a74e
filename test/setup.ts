// Runs before every test file: the read model's schema in the real local D1, stand-ins at the fetch
// boundary, and the injected clock.
import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeAll, beforeEach, expect, vi } from "vitest";
import { gateFor } from "../src/egress/gate";
import { resetLocalLeases } from "../src/egress/gate-lease";
import { forgetBursts } from "../src/alerts/report";
import { forgetRejections } from "../src/alerts/rejected";
import { clock } from "../src/lib/clock";
import { outbound } from "../src/lib/outbound";
import { installStandIns, schemaViolations } from "./stand-ins";

const realNow = clock.now;
const realFetch = outbound.fetch;

beforeAll(async () => {
  await applyD1Migrations(env.READ_MODEL, env.TEST_MIGRATIONS);
});

/** Every test starts with its destinations' gates resumed (breaker closed, failures and slots
 *  forgotten): a gate's state is the destination's, and one test's failing origin must not open
 *  another test's breaker. (The injected clock restarts each test, so old slots would lie ahead.)
 *  After the stand-ins: a resume wakes the objects an earlier test left waiting, and at the injected
 *  clock that wake is due a year ahead, so it never fires by itself into this test. */
async function resetGates(): Promise<void> {
  resetLocalLeases();
  forgetBursts();
  forgetRejections();
  for (const name of ["default", "erp", "limited", "analytics", "picky"])
    await gateFor(env, name).setPaused(name, false);
}

beforeEach(async () => {
  installStandIns();
  await resetGates();
});

afterEach(() => {
  // Every event a test had the gateway forward validates against the published schema.
  expect(schemaViolations, "forwarded bodies outside schemas/events.schema.json").toEqual([]);
  vi.restoreAllMocks();
  clock.now = realNow;
  outbound.fetch = realFetch;
});
