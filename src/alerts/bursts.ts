// Bad signatures counted where isolates meet: in the alerts object's memory, from the batches each
// isolate reports (report.ts), so a burst spread over many isolates still opens its alert. The 20th
// within 5 minutes on one route opens ingest.signature_failures; while it is open, the count is added
// to it at most once a minute (its last time moves, so it resolves after 15 quiet minutes). Nothing is
// written per bad signature. Gives up: an evicted alerts object forgets a burst not yet at 20.

import { SIGNATURE_BURST } from "./kinds";
import { MINUTE_MS } from "../lib/time";

/** While the alert is open, its count is written at most this often, in ms. */
const REPORT_EVERY_MS = MINUTE_MS;
/** Routes counted at most (routes are bounded by the configuration; this bounds memory anyway). */
const MAX_ROUTES = 200;

interface Burst {
  /** Batches not yet enough to open the alert, within the window. */
  batches: Array<{ readonly at: number; readonly n: number }>;
  unreported: number;
  reportedAt: number;
}

export class Bursts {
  readonly #routes = new Map<string, Burst>();

  /** Counts `n` bad signatures on `route`; returns the count to raise now, or null. */
  count(route: string, n: number, now: number, open: boolean): number | null {
    let burst = this.#routes.get(route);
    if (burst === undefined) {
      if (this.#routes.size >= MAX_ROUTES) this.#routes.clear();
      burst = { batches: [], unreported: 0, reportedAt: 0 };
      this.#routes.set(route, burst);
    }
    if (open) {
      burst.unreported += n;
      if (now - burst.reportedAt < REPORT_EVERY_MS) return null;
      const report = burst.unreported;
      Object.assign(burst, { unreported: 0, reportedAt: now });
      return report;
    }
    burst.batches = burst.batches.filter((b) => now - b.at < SIGNATURE_BURST.windowMs);
    burst.batches.push({ at: now, n });
    const total = burst.batches.reduce((sum, b) => sum + b.n, 0);
    if (total < SIGNATURE_BURST.count) return null;
    Object.assign(burst, { batches: [], unreported: 0, reportedAt: now });
    return total;
  }
}
