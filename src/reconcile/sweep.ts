// The sweep: with PORTONE_ENVIRONMENT set, a pass pages through PortOne's payment list
// (fetch-all-payments) for the window since the last sweep, a few pages per pass, and records each
// payment the gateway has no object for as a reconciled event on a new object. A listed payment
// that is a subscription's charge (subscription_order_ref set) belongs to its subscription: it is
// recorded there as a charge (the same one txns-records gives), never on a payment object. The window and page
// are kept in the read model's `reconcile_sweep` row, so the next pass resumes where this one stopped.

import type { PortOneConfig } from "../config";
import { paymentsInWindow, type ListedPayment } from "../egress/portone/lookups";
import { ledgerOf } from "../ledger/client";
import { objectNameOf } from "../providers/names";
import { clock } from "../lib/clock";
import { log } from "../lib/log";
import type { ReconcileSettings } from "../config/reconcile";
import { credentialsRefused, knownObjects, saveSweep, sweepState } from "./store";
import { DAY_MS, MINUTE_MS } from "../lib/time";

/** What a pass has done so far (pass.ts). */
export interface Tally {
  checked: number;
  changed: number;
  apiCalls: number;
  listed: number;
  recorded: number;
  purged: number;
  unanswered: number;
  unavailableInARow: number;
  error: string | null;
  /** Statuses of payment objects learned from the API that no webhook brought (charges aside: they
   *  are always learned from the API). */
  missed: number;
  /** Whether PortOne's API refused the credentials. */
  authRefused: boolean;
}

/** Pages read per pass at most, and their size. */
const PAGES_PER_PASS = 5;
const PAGE_SIZE = 50;
/** The first sweep looks back this far, in ms. */
const FIRST_WINDOW_MS = DAY_MS;
/** A window ends this long before now: payments still being created are left to the next one. */
const SETTLE_MS = MINUTE_MS;

export async function sweep(
  env: Env,
  portone: PortOneConfig,
  settings: ReconcileSettings,
  tally: Tally,
): Promise<void> {
  const environment = settings.environment;
  if (environment === null) return;
  const now = clock.now();
  const saved = await sweepState(env.READ_MODEL);
  let state = {
    from: saved?.from ?? new Date(now - FIRST_WINDOW_MS).toISOString(),
    to: saved?.to ?? new Date(now - SETTLE_MS).toISOString(),
    page: saved?.page ?? 1,
  };
  for (let pages = 0; pages < PAGES_PER_PASS && tally.apiCalls < settings.maxApiCalls; pages++) {
    const answer = await paymentsInWindow(
      portone,
      { from: state.from, to: state.to, page: state.page, size: PAGE_SIZE },
      environment,
      clock.now(),
    );
    tally.apiCalls += 1;
    if (!answer.ok) {
      if (answer.error.kind === "auth") {
        tally.error = credentialsRefused(answer.error.reason);
        tally.authRefused = true;
      }
      log(answer.error.kind === "auth" ? "error" : "warn", "payment list not read", {
        failure: answer.error.kind,
        reason: answer.error.reason,
      });
      break;
    }
    const { payments: listed, totalPages } = answer.value;
    tally.listed += listed.length;
    const payments: ListedPayment[] = [];
    for (const payment of listed) {
      const subscription = payment.data.subscription_order_ref;
      if (typeof subscription !== "string" || subscription === "") payments.push(payment);
      else {
        const name = objectNameOf("portone", "subscription_link", subscription);
        const { changed } = await ledgerOf(env, name).checkWithPortOne({ kind: "charge", charge: payment });
        tally.recorded += changed;
        tally.changed += changed;
      }
    }
    const named = payments.map((p) => ({ ...p, name: objectNameOf("portone", "payment", p.orderRef) }));
    const known = await knownObjects(
      env.READ_MODEL,
      named.map((p) => p.name),
    );
    for (const { name, ...payment } of named) {
      if (known.has(name)) continue;
      const observed = { status: payment.status, data: payment.data };
      const { changed } = await ledgerOf(env, name).checkWithPortOne({ kind: "listed", observed });
      tally.recorded += changed;
      tally.changed += changed;
      tally.missed += changed;
    }
    if (state.page >= totalPages) {
      await saveSweep(env.READ_MODEL, { from: state.to, to: null, page: 1 }); // the next window starts here
      return;
    }
    state = { ...state, page: state.page + 1 };
  }
  await saveSweep(env.READ_MODEL, state);
}
