// One reconciliation pass (design: "Reconciliation and retention"), from the cron trigger every 5
// minutes or POST /admin/reconcile. It takes from the read model the unfinished PortOne objects silent
// for RECONCILE_AFTER_MINUTES (and past their backoff), asks each one's Durable Object to check itself
// with PortOne's API, notes each check, sweeps PortOne's payment list when PORTONE_ENVIRONMENT is set,
// and purges the history of objects finished for RETENTION_DAYS. Bounded and polite: at most
// RECONCILE_MAX_OBJECTS objects and RECONCILE_MAX_API_CALLS calls; an auth error stops the pass (a
// configuration problem, logged and shown on the console); three unavailable answers in a row stop it.

import type { Config } from "../config";
import { describeConfigError } from "../lib/config-error";
import { ledgerOf } from "../ledger/client";
import type { CheckResult } from "../ledger/portone-checks";
import { clock } from "../lib/clock";
import { log } from "../lib/log";
import { errorText } from "../lib/result";
import type { ReconcileSettings } from "../config/reconcile";
import { credentialsRefused, dueObjects, purgeable, recordPass, type Candidate } from "./store";
import { purgeAudit } from "../readmodel/audit";
import { forgetPurged, noteChecks } from "../readmodel/marks";
import { sweep, type Tally } from "./sweep";
import { raiseAlert, resolveAlert } from "../alerts/report";

/** Objects asked at once. */
const CONCURRENCY = 4;
/** Unavailable answers in a row that end the pass (PortOne's API is down: do not hammer it). */
const UNAVAILABLE_STOP = 3;
/** The most a check costs in API calls (a payment link: its status, then its paid transaction's
 *  order_ref and details; a subscription: its status and its charges). */
const MAX_CALLS_PER_CHECK = 3;

export interface PassResult {
  readonly checked: number;
  readonly changed: number;
}

export async function runPass(env: Env, config: Config, trigger: "cron" | "admin"): Promise<PassResult> {
  if (!config.reconcile.ok) throw new Error(describeConfigError(config.reconcile.error));
  const settings = config.reconcile.value;
  const startedAt = clock.now();
  const tally: Tally = {
    checked: 0,
    changed: 0,
    apiCalls: 0,
    listed: 0,
    recorded: 0,
    purged: 0,
    unanswered: 0,
    unavailableInARow: 0,
    error: null,
    missed: 0,
    authRefused: false,
  };
  const due = await dueObjects(env.READ_MODEL, startedAt, startedAt - settings.afterMs, settings.maxObjects);
  for (let i = 0; i < due.length && tally.error === null; i += CONCURRENCY) {
    const room = Math.floor((settings.maxApiCalls - tally.apiCalls) / MAX_CALLS_PER_CHECK);
    if (room <= 0) break;
    await checkBatch(env, due.slice(i, i + Math.min(CONCURRENCY, room)), tally);
  }
  if (settings.environment !== null && tally.error === null && tally.apiCalls < settings.maxApiCalls)
    await sweep(env, config.portone, settings, tally);
  await purgeQuiet(env, settings, tally);
  const finishedAt = clock.now();
  const { unavailableInARow: _, apiCalls, missed, authRefused, ...counts } = tally;
  await recordPass(env.READ_MODEL, {
    trigger,
    started_at: startedAt,
    finished_at: finishedAt,
    api_calls: apiCalls,
    ...counts,
  });
  log(tally.error === null ? "info" : "error", "reconciliation pass", { trigger, ...counts, api_calls: apiCalls });
  await reportAlerts(env, missed, authRefused, apiCalls);
  return { checked: tally.checked, changed: tally.changed };
}

/** A status no webhook brought hints that PortOne's webhooks miss the gateway; refused credentials
 *  stop reconciliation; a pass whose calls were accepted resolves the latter. */
async function reportAlerts(env: Env, missed: number, authRefused: boolean, apiCalls: number): Promise<void> {
  if (missed > 0) await raiseAlert(env, { kind: "reconcile.missed_webhook", subject: "portone", count: missed });
  if (authRefused) await raiseAlert(env, { kind: "reconcile.auth_failed", subject: "portone" });
  else if (apiCalls > 0) await resolveAlert(env, "reconcile.auth_failed", "portone");
}

async function checkBatch(env: Env, batch: readonly Candidate[], tally: Tally): Promise<void> {
  const answers = await Promise.all(
    batch.map(async (c): Promise<[Candidate, CheckResult]> => {
      try {
        return [c, await ledgerOf(env, c.object).checkWithPortOne({ kind: "object" })];
      } catch (thrown) {
        const failure = { kind: "unavailable", reason: `ledger: ${errorText(thrown)}` } as const;
        return [c, { changed: 0, apiCalls: 0, failure }];
      }
    }),
  );
  const noted = [];
  for (const [candidate, result] of answers) {
    tally.checked += 1;
    tally.changed += result.changed;
    tally.apiCalls += result.apiCalls;
    const failure = result.failure;
    tally.missed += result.missed ?? 0;
    if (failure?.kind === "auth") {
      tally.error = credentialsRefused(failure.reason);
      tally.authRefused = true;
    }
    tally.unavailableInARow = failure?.kind === "unavailable" ? tally.unavailableInARow + 1 : 0;
    if (tally.unavailableInARow >= UNAVAILABLE_STOP && tally.error === null)
      tally.error = `PortOne's API is unavailable: ${failure?.reason ?? ""}`;
    if (failure !== null) tally.unanswered += 1;
    if (failure !== null && failure.kind !== "auth")
      log("warn", "reconciliation check found no answer", {
        object: candidate.object,
        failure: failure.kind,
        reason: failure.reason,
      });
    const activeSubscription = candidate.kind === "subscription_link" && candidate.status?.toLowerCase() === "active";
    noted.push({ object: candidate.object, again: failure === null && (result.changed > 0 || activeSubscription) });
  }
  await noteChecks(env.READ_MODEL, noted, clock.now());
}

/** Retention: each finished, settled object quiet for RETENTION_DAYS loses its history, and the audit
 *  log its entries older than that. */
async function purgeQuiet(env: Env, settings: ReconcileSettings, tally: Tally): Promise<void> {
  const cutoff = clock.now() - settings.retentionMs;
  try {
    await purgeAudit(env.READ_MODEL, cutoff); // the audit log is kept as long as the histories
  } catch (thrown) {
    log("warn", "audit log retention failed; tried again at the next pass", { error: errorText(thrown) });
  }
  for (const object of await purgeable(env.READ_MODEL, cutoff, settings.maxObjects)) {
    try {
      const result = await ledgerOf(env, object).purge(cutoff);
      if (!result.purged) continue;
      await forgetPurged(env.READ_MODEL, object, clock.now());
      tally.purged += 1;
    } catch (thrown) {
      log("warn", "retention purge failed; tried again at the next pass", { object, error: errorText(thrown) });
    }
  }
}
