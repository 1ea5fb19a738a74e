// The alarm's refund work: confirm each refund hint with PortOne's API (spec §4.4, §11).
// Only what the API returns for the hint's refund_id is recorded and forwarded, as an event of
// kind "refund" in its payment's ledger, so it is ordered after that payment's own events; each status
// the API shows is forwarded once. A refund stays being confirmed while the API's status is not final,
// or is final but not the one the hint claimed (PortOne does not send the webhook again, and the API may
// lag it: a SUCCESS hint met by IN_QUEUE must not end at IN_QUEUE), asked again with backoff for about
// a day; then the API's final word stands (confirmed), or, when it never became final, the hint's claim
// is given up as unconfirmed (the console shows it; the same hint sent again starts over). A refund the
// API does not list yet is asked about on the same schedule. When PortOne does not know the payment at
// all, every refund of it is given up at once, and new hints wait an hour before the API is asked again.
// While the API is unavailable, unreadable or refuses the credentials, the confirmation is retried on
// the forwarding schedule.

import { clock } from "../lib/clock";
import { retryDelayMs } from "../lib/retry";
import { log } from "../lib/log";
import { eventIdOf } from "../providers/event-id";
import type { PortOneConfig } from "../config";
import { refundOf } from "../egress/portone/lookups";
import { REFUND_LIFECYCLE } from "../providers/portone/refund";
import { positionOf } from "../providers/types";
import { hasHadStatus } from "./check-with-portone";
import { meta } from "./meta";
import type { Outbox } from "./outbox";
import { recordEvent } from "./record";
import type { DueRefund, Refunds } from "./refunds";
import type { LedgerStore } from "./store";

/** Confirmations per alarm run at most; the rest wait for the next run. */
const MAX_CONFIRMATIONS_PER_RUN = 10;
/** Delays after each answer that does not settle the refund (not listed, not final, or not what the
 *  hint claimed), in seconds (23.8 hours in all): then it is settled with what the API last said. */
export const UNKNOWN_REFUND_RETRY_SECONDS: readonly number[] = [
  60,
  120,
  300,
  600,
  1800,
  3600,
  2 * 3600,
  4 * 3600,
  8 * 3600,
  8 * 3600,
];

const isFinal = (status: string): boolean => positionOf(REFUND_LIFECYCLE, status).terminal;
const same = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

export async function confirmDueRefunds(
  store: LedgerStore,
  portone: PortOneConfig,
  outbox: Outbox,
  refunds: Refunds,
): Promise<void> {
  for (const refund of refunds.due(clock.now(), MAX_CONFIRMATIONS_PER_RUN)) {
    refunds.countAttempt(refund.refundId, clock.now());
    const lookup = await refundOf(portone, refund.paymentTxnRef, refund.refundId, clock.now());
    const ids = { kind: "refund", object_ref: refund.refundId, payment_txn_ref: refund.paymentTxnRef };
    if (lookup.ok) {
      await recordAnswer(store, outbox, refunds, refund, lookup.value);
    } else if (lookup.error.kind === "unknown_payment") {
      // No refund of a payment PortOne does not know will ever be listed: stop asking about any of them.
      const error = `PortOne does not know payment ${refund.paymentTxnRef}: ${lookup.error.reason}`;
      store.write((sql) => {
        refunds.giveUpAll(clock.now(), error);
        meta.set(sql, "payment_unknown_at", clock.now());
      });
      log("warn", "refund hint names a payment PortOne does not know; not forwarded", ids);
      return;
    } else if (lookup.error.kind === "not_found") {
      askAgainLater(refunds, refund, lookup.error.reason, null);
    } else {
      const error = lookup.error.reason;
      const delay = retryDelayMs(refund.confirmAttempts + 1, Math.random());
      if (delay === null) {
        refunds.settle(refund.refundId, "unconfirmed", clock.now(), { error: `gave up: ${error}` });
        log("error", "refund confirmation abandoned after the retry budget", { ...ids, error });
      } else {
        refunds.retryAt(refund.refundId, clock.now() + delay, clock.now(), error);
        // Refused credentials are a configuration problem: loud, and retried once it is fixed.
        const level = lookup.error.kind === "auth" ? "error" : "warn";
        log(level, `PortOne API ${lookup.error.kind}; refund confirmation retried`, { ...ids, error });
      }
    }
  }
}

/** The API's answer not settling the refund yet: asked again on the day-long schedule, then settled
 *  with what the API last said (`status`: a final status stands as confirmed; else unconfirmed). */
function askAgainLater(refunds: Refunds, refund: DueRefund, reason: string, status: string | null): void {
  const ids = { kind: "refund", object_ref: refund.refundId, payment_txn_ref: refund.paymentTxnRef };
  const delay = UNKNOWN_REFUND_RETRY_SECONDS[refund.confirmAttempts];
  if (delay !== undefined) {
    refunds.retryAt(refund.refundId, clock.now() + delay * 1000, clock.now(), reason);
    log("info", "refund not settled by PortOne yet; asked again later", { ...ids, reason });
  } else if (
    status !== null &&
    (isFinal(status) || (refund.hintedStatus !== null && same(status, refund.hintedStatus)))
  ) {
    refunds.settle(refund.refundId, "confirmed", clock.now(), { status, error: `after a day: ${reason}` });
    log("warn", "refund settled with PortOne's last answer after a day", { ...ids, status, reason });
  } else {
    refunds.settle(refund.refundId, "unconfirmed", clock.now(), { error: `gave up after a day: ${reason}` });
    log("warn", "refund never confirmed by PortOne; given up, not forwarded", { ...ids, reason });
  }
}

/** Records the status the API gives for the refund, once per status, and settles the refund when that
 *  status is final and agrees with the hint (or the hint claimed a status the API has moved past). */
async function recordAnswer(
  store: LedgerStore,
  outbox: Outbox,
  refunds: Refunds,
  refund: DueRefund,
  detail: Record<string, unknown>,
): Promise<void> {
  const status = detail.refund_status;
  if (typeof status !== "string" || status === "") {
    refunds.settle(refund.refundId, "unconfirmed", clock.now(), { error: "PortOne API returned no refund_status" });
    return;
  }
  const hinted = refund.hintedStatus;
  const settled = isFinal(status) && (hinted === null || same(hinted, status) || !isFinal(hinted));
  const data = { ...detail, payment_txn_ref: refund.paymentTxnRef };
  const eventId = await eventIdOf("portone", "refund", data);
  const now = clock.now();
  const outcome = store.write((sql) => {
    if (settled) refunds.settle(refund.refundId, "confirmed", now, { status });
    else askAgainLater(refunds, refund, `PortOne says ${status}; the hint said ${hinted ?? "nothing"}`, status);
    if (hasHadStatus(sql, "refund", refund.refundId, status)) return null;
    return recordEvent(
      store,
      outbox,
      {
        provider: "portone",
        kind: "refund",
        objectRef: refund.refundId,
        eventId,
        status,
        position: positionOf(REFUND_LIFECYCLE, status),
        data: JSON.stringify(data),
        unverified: null,
        // Learned from the refund webhook's hint; only the API's answer is forwarded.
        source: "webhook",
        contentHash: null,
        receivedAt: new Date(now).toISOString(),
      },
      null,
    );
  });
  if (outcome !== null)
    log("info", `refund confirmed: ${outcome.result}`, {
      kind: "refund",
      object_ref: refund.refundId,
      event_id: eventId,
      status,
    });
}
