// Refused webhooks, counted for gateway_webhooks_rejected_total: each isolate adds them up per route
// pattern and answer, and tells the alerts object (where isolates meet; its storage survives restarts)
// in one batch a second at most, so a flood of refusals costs a request a second and a write per batch,
// never a write per request. Counts trail by about a second (an isolate that dies within that second
// loses its batch).

import { log } from "../lib/log";
import { errorText } from "../lib/result";
import { alertStore } from "./report";

const FLUSH_EVERY_MS = 1_000;
/** Distinct (route, reason) pairs one isolate holds at most: labels stay bounded. */
const MAX_PAIRS = 500;

const unsent = new Map<string, number>();
let flushing = false;

/** Counts one webhook answered `reason` on `route` (a bounded pattern: rejections.ts's metricRoute). */
export function countRejection(
  env: Env,
  waitUntil: (p: Promise<unknown>) => void,
  route: string,
  reason: string,
): void {
  const key = `${route}\n${reason}`;
  const pending = unsent.get(key);
  if (pending === undefined && unsent.size >= MAX_PAIRS) return;
  unsent.set(key, (pending ?? 0) + 1);
  if (flushing) return;
  flushing = true;
  waitUntil(
    (async () => {
      await new Promise((resolve) => setTimeout(resolve, FLUSH_EVERY_MS));
      const batch = [...unsent].map(([k, n]) => {
        const [r = "other", why = "unknown"] = k.split("\n");
        return { route: r, reason: why, n };
      });
      unsent.clear();
      flushing = false;
      try {
        await alertStore(env).countRejections(batch);
      } catch (thrown) {
        // Kept for the next batch (a later refusal sends it): counted late, not lost.
        for (const { route: r, reason: why, n } of batch)
          unsent.set(`${r}\n${why}`, (unsent.get(`${r}\n${why}`) ?? 0) + n);
        log("warn", "refused webhooks not counted yet", { error: errorText(thrown), pairs: batch.length });
      }
    })(),
  );
}

/** Forgets what this isolate has not told yet (tests). */
export function forgetRejections(): void {
  unsent.clear();
  flushing = false;
}
