// Runs before every test file: the read model's schema in the real local D1, stand-ins at the fetch
// boundary, and the injected clock.
import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeAll, beforeEach, vi } from "vitest";
import { clock } from "../src/lib/clock";
import { outbound } from "../src/lib/outbound";
import { installStandIns } from "./stand-ins";

const realNow = clock.now;
const realFetch = outbound.fetch;

beforeAll(async () => {
  await applyD1Migrations(env.READ_MODEL, env.TEST_MIGRATIONS);
});

beforeEach(() => {
  installStandIns();
});

afterEach(() => {
  vi.restoreAllMocks();
  clock.now = realNow;
  outbound.fetch = realFetch;
});
