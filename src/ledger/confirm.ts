// The alarm's refund work: confirm each refund hint with PortOne's API (spec §4.4, §11).
// Only what the API returns for the hint's refund_id is recorded and forwarded, as an event of
// kind "refund" in its payment's ledger, so it is ordered after that payment's own events.
// A refund the API does not list yet is asked about again with backoff for about a day (the API may
// lag the webhook), then settled as unconfirmed and never forwarded (the console shows when it gave
// up; the same hint sent again starts over). While the API is unavailable, unreadable or refuses the
// credentials, the confirmation is retried on the forwarding schedule.

import { clock } from "../lib/clock";
import { retryDelayMs } from "../egress/schedule";
import { log } from "../lib/log";
import { eventIdOf } from "../providers/event-id";
import type { PortOneConfig } from "../config";
import { refundOf } from "../egress/portone/lookups";
import { REFUND_LIFECYCLE } from "../providers/portone/refund";
import { positionOf } from "../providers/types";
import type { Outbox } from "./outbox";
import { recordEvent } from "./record";
import type { DueRefund, Refunds } from "./refunds";

/** Confirmations per alarm run at most; the rest wait for the next run. */
const MAX_CONFIRMATIONS_PER_RUN = 10;
/** Delays after each answer that does not list the refund, in seconds (23.8 hours in all): then it
 *  is given up as unconfirmed. */
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

export async function confirmDueRefunds(
  storage: DurableObjectStorage,
  portone: PortOneConfig,
  outbox: Outbox,
  refunds: Refunds,
): Promise<void> {
  for (const refund of refunds.due(clock.now(), MAX_CONFIRMATIONS_PER_RUN)) {
    refunds.countAttempt(refund.refundId, clock.now());
    const lookup = await refundOf(portone, refund.paymentTxnRef, refund.refundId, clock.now());
    const ids = { kind: "refund", object_ref: refund.refundId, payment_txn_ref: refund.paymentTxnRef };
    if (lookup.ok) {
      await recordConfirmed(storage, outbox, refunds, refund, lookup.value);
    } else if (lookup.error.kind === "not_found") {
      const { reason } = lookup.error;
      const delay = UNKNOWN_REFUND_RETRY_SECONDS[refund.confirmAttempts];
      if (delay === undefined) {
        refunds.settle(refund.refundId, "unconfirmed", clock.now(), { error: `gave up after a day: ${reason}` });
        log("warn", "refund never confirmed by PortOne; given up, not forwarded", { ...ids, reason });
      } else {
        refunds.retryAt(refund.refundId, clock.now() + delay * 1000, clock.now(), reason);
        log("info", "refund not listed by PortOne yet; asked again later", { ...ids, reason });
      }
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

async function recordConfirmed(
  storage: DurableObjectStorage,
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
  const data = { ...detail, payment_txn_ref: refund.paymentTxnRef };
  const eventId = await eventIdOf("portone", "refund", data);
  const now = clock.now();
  const outcome = storage.transactionSync(() => {
    refunds.settle(refund.refundId, "confirmed", now, { status });
    return recordEvent(
      storage.sql,
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
  log("info", `refund confirmed: ${outcome.result}`, {
    kind: "refund",
    object_ref: refund.refundId,
    event_id: eventId,
    status,
  });
}
