// Runs before every test file: stand-ins at the fetch boundary, and the real clock.
import { afterEach, beforeEach, vi } from "vitest";
import { clock } from "../src/lib/clock";
import { outbound } from "../src/lib/outbound";
import { installStandIns } from "./stand-ins";

const realNow = clock.now;
const realFetch = outbound.fetch;

beforeEach(() => {
  installStandIns();
});

afterEach(() => {
  vi.restoreAllMocks();
  clock.now = realNow;
  outbound.fetch = realFetch;
});
