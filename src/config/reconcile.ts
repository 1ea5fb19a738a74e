// Reconciliation and retention settings (design: "Reconciliation and retention"), read once with the
// rest of the configuration. Each number must be a whole number in its range; an invalid one names its
// key, and the pass refuses to run rather than guess.

import type { ConfigError } from "../lib/config-error";
import { err, ok, type Result } from "../lib/result";
import { DAY_MS, MINUTE_MS } from "../lib/time";

export interface ReconcileSettings {
  /** An unfinished object silent this long is checked, in ms (0: every unfinished object). */
  readonly afterMs: number;
  /** Objects checked per pass at most. */
  readonly maxObjects: number;
  /** Calls to PortOne's API per pass at most. */
  readonly maxApiCalls: number;
  /** Set: the pass also sweeps PortOne's payment list in this environment. */
  readonly environment: "live" | "sandbox" | null;
  /** A finished, settled object loses its history after this long, in ms. */
  readonly retentionMs: number;
}

function whole(
  key: string,
  raw: string | undefined,
  fallback: number,
  [min, max]: readonly [number, number],
): Result<number, ConfigError> {
  if (raw === undefined) return ok(fallback);
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n) || n < min || n > max)
    return err({ key, message: `a whole number from ${min} to ${max}` });
  return ok(n);
}

export function reconcileSettings(text: (name: string) => string | undefined): Result<ReconcileSettings, ConfigError> {
  const after = whole("RECONCILE_AFTER_MINUTES", text("RECONCILE_AFTER_MINUTES"), 30, [0, 100_000]);
  const objects = whole("RECONCILE_MAX_OBJECTS", text("RECONCILE_MAX_OBJECTS"), 100, [1, 10_000]);
  const calls = whole("RECONCILE_MAX_API_CALLS", text("RECONCILE_MAX_API_CALLS"), 300, [1, 100_000]);
  const days = whole("RETENTION_DAYS", text("RETENTION_DAYS"), 90, [1, 36_500]);
  if (!after.ok) return after;
  if (!objects.ok) return objects;
  if (!calls.ok) return calls;
  if (!days.ok) return days;
  const environment = text("PORTONE_ENVIRONMENT")?.toLowerCase();
  if (environment !== undefined && environment !== "live" && environment !== "sandbox")
    return err({ key: "PORTONE_ENVIRONMENT", message: "live or sandbox, or empty" });
  return ok({
    afterMs: after.value * MINUTE_MS,
    maxObjects: objects.value,
    maxApiCalls: calls.value,
    environment: environment ?? null,
    retentionMs: days.value * DAY_MS,
  });
}
