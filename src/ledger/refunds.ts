// The refunds' SQL: which refund hints were received, and where each refund's confirmation with
// PortOne's API stands (confirming, confirmed, unconfirmed). A hint is unsigned, so nothing in it is
// trusted and nothing it says may cost more than a bounded amount: one hint is kept per refund and
// claimed status (its identity), PortOne's API is asked about one refund at most once a minute however
// many hints come, and the hints and refunds one payment may keep are bounded.

import type { LedgerStore } from "./store";
import { HOUR_MS, MINUTE_MS } from "../lib/time";

export interface RefundHintInput {
  /** The hint's identity: its refund_id and refund_status (providers/portone/refund.ts). */
  readonly eventId: string;
  readonly refundId: string;
  readonly paymentTxnRef: string;
  /** The refund_status the hint claims, as sent (null when it names none). */
  readonly status: string | null;
  /** The hint's body, re-serialized JSON. */
  readonly payload: string;
  readonly receivedAt: string;
}

export interface DueRefund {
  readonly refundId: string;
  readonly paymentTxnRef: string;
  readonly confirmAttempts: number;
  /** The status the latest hint claimed, if any. */
  readonly hintedStatus: string | null;
}

/** "limited": not kept, the payment holds as many refunds, or the refund as many hints, as it may. */
export type HintKept = "new" | "restarted" | "known" | "limited";

export const REFUND_LIMITS = {
  /** Refunds one payment may have being kept (a payment is refunded in a few parts at most). */
  refundsPerPayment: 100,
  /** The same, for a payment PortOne's API said it does not know. */
  refundsPerUnknownPayment: 10,
  /** Hints (distinct claimed statuses) kept per refund. */
  hintsPerRefund: 10,
};
/** PortOne's API is asked about one refund at most this often, in ms, however many hints come. */
export const ASK_EVERY_MS = MINUTE_MS;
/** After PortOne's API said it does not know the payment, hints wait this long before it is asked again, in ms. */
export const UNKNOWN_PAYMENT_WAIT_MS = HOUR_MS;

/** When the refund may be asked about next (SQL over the refunds row: `?now`, `?unknownUntil`). */
const EARLIEST_ASK = `max(?, coalesce(asked_at, 0) + ${ASK_EVERY_MS}, ?)`;

export class Refunds {
  constructor(private readonly store: LedgerStore) {}

  private get sql(): SqlStorage {
    return this.store.sql;
  }

  /** Keeps the hint and (re)starts its refund's confirmation. `unknownPaymentAt`: when PortOne last
   *  said it does not know this payment (null: never). */
  recordHint(hint: RefundHintInput, now: number, unknownPaymentAt: number | null): HintKept {
    return this.store.write(() => {
      const unknownUntil = unknownPaymentAt === null ? 0 : unknownPaymentAt + UNKNOWN_PAYMENT_WAIT_MS;
      if (this.sql.exec("SELECT 1 FROM refund_hints WHERE event_id = ?", hint.eventId).toArray().length > 0) {
        // Sent again after the refund was given up as unconfirmed: ask again (the status may be there now).
        const restarted = this.sql.exec(
          `UPDATE refunds SET state = 'confirming', confirm_attempts = 0, next_attempt_at = ${EARLIEST_ASK}, updated_at = ?
            WHERE refund_id = ? AND state = 'unconfirmed'`,
          now,
          unknownUntil,
          now,
          hint.refundId,
        ).rowsWritten;
        return restarted > 0 ? "restarted" : "known";
      }
      if (this.#full(hint.refundId, unknownPaymentAt !== null)) return "limited";
      this.sql.exec(
        "INSERT INTO refund_hints (event_id, refund_id, received_at, payload) VALUES (?, ?, ?, ?)",
        hint.eventId,
        hint.refundId,
        hint.receivedAt,
        hint.payload,
      );
      // A hint with another status for a known refund means its status may have changed: confirm it again.
      this.sql.exec(
        `INSERT INTO refunds (refund_id, payment_txn_ref, state, confirm_attempts, next_attempt_at, updated_at, hinted_status)
         VALUES (?, ?, 'confirming', 0, max(?, ?), ?, ?)
         ON CONFLICT (refund_id) DO UPDATE SET state = 'confirming', confirm_attempts = 0,
           next_attempt_at = ${EARLIEST_ASK}, last_error = NULL, updated_at = ?, hinted_status = ?`,
        hint.refundId,
        hint.paymentTxnRef,
        now,
        unknownUntil,
        now,
        hint.status,
        now,
        unknownUntil,
        now,
        hint.status,
      );
      return "new";
    });
  }

  /** Whether a new hint of this refund may not be kept: its refund has all the hints it may, or it
   *  would be a refund too many for the payment. */
  #full(refundId: string, unknownPayment: boolean): boolean {
    const counts = this.sql
      .exec<{ refunds: number; hints: number; known: number }>(
        `SELECT (SELECT count(*) FROM refunds) AS refunds,
                (SELECT count(*) FROM refund_hints WHERE refund_id = ?1) AS hints,
                EXISTS (SELECT 1 FROM refunds WHERE refund_id = ?1) AS known`,
        refundId,
      )
      .one();
    const most = unknownPayment ? REFUND_LIMITS.refundsPerUnknownPayment : REFUND_LIMITS.refundsPerPayment;
    return counts.hints >= REFUND_LIMITS.hintsPerRefund || (counts.known === 0 && counts.refunds >= most);
  }

  due(now: number, limit: number): DueRefund[] {
    return this.sql
      .exec<{ refund_id: string; payment_txn_ref: string; confirm_attempts: number; hinted_status: string | null }>(
        `SELECT refund_id, payment_txn_ref, confirm_attempts, hinted_status FROM refunds
          WHERE state = 'confirming' AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?`,
        now,
        limit,
      )
      .toArray()
      .map((r) => ({
        refundId: r.refund_id,
        paymentTxnRef: r.payment_txn_ref,
        confirmAttempts: r.confirm_attempts,
        hintedStatus: r.hinted_status,
      }));
  }

  /** Whether this object ever received a refund hint. */
  any(): boolean {
    return this.sql.exec("SELECT 1 FROM refunds LIMIT 1").toArray().length > 0;
  }

  /** Earliest time a confirmation is due, or null. */
  nextDue(): number | null {
    return this.sql
      .exec<{ at: number | null }>("SELECT min(next_attempt_at) AS at FROM refunds WHERE state = 'confirming'")
      .one().at;
  }

  /** PortOne's API is being asked about the refund now. */
  countAttempt(refundId: string, now: number): void {
    this.store.write(() => {
      this.sql.exec(
        "UPDATE refunds SET confirm_attempts = confirm_attempts + 1, asked_at = ?, updated_at = ? WHERE refund_id = ?",
        now,
        now,
        refundId,
      );
    });
  }

  settle(
    refundId: string,
    state: "confirmed" | "unconfirmed",
    now: number,
    detail: { status?: string; error?: string },
  ): void {
    this.store.write(() => {
      this.sql.exec(
        "UPDATE refunds SET state = ?, confirmed_status = ?, last_error = ?, next_attempt_at = NULL, updated_at = ? WHERE refund_id = ?",
        state,
        detail.status ?? null,
        detail.error ?? null,
        now,
        refundId,
      );
    });
  }

  /** Every refund still being confirmed is given up as unconfirmed (PortOne does not know the payment). */
  giveUpAll(now: number, error: string): number {
    return this.store.write(() => {
      return this.sql.exec(
        `UPDATE refunds SET state = 'unconfirmed', last_error = ?, next_attempt_at = NULL, updated_at = ?
          WHERE state = 'confirming'`,
        error,
        now,
      ).rowsWritten;
    });
  }

  retryAt(refundId: string, at: number, now: number, error: string): void {
    this.store.write(() => {
      this.sql.exec(
        "UPDATE refunds SET next_attempt_at = ?, last_error = ?, updated_at = ? WHERE refund_id = ?",
        at,
        error,
        now,
        refundId,
      );
    });
  }
}
