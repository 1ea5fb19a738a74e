// The refunds' SQL: which refund hints were received, and where each refund's confirmation with
// PortOne's API stands (confirming, confirmed, unconfirmed).

export interface RefundHintInput {
  /** Name of the ledger (provider:kind:ref) the hint is recorded in: its payment's. */
  readonly ledger: string;
  readonly eventId: string;
  readonly refundId: string;
  readonly paymentTxnRef: string;
  /** The hint's body, re-serialized JSON. */
  readonly payload: string;
  readonly receivedAt: string;
}

export interface DueRefund {
  readonly refundId: string;
  readonly paymentTxnRef: string;
  readonly confirmAttempts: number;
}

export class Refunds {
  constructor(private readonly sql: SqlStorage) {}

  /** Keeps the hint and (re)starts the refund's confirmation: "new" for a hint not kept before,
   *  "restarted" for one kept before whose refund was given up as unconfirmed (sent again: ask again),
   *  else "known". */
  recordHint(hint: RefundHintInput, now: number): "new" | "restarted" | "known" {
    const known = this.sql.exec("SELECT 1 FROM refund_hints WHERE event_id = ?", hint.eventId).toArray().length > 0;
    if (known) {
      const restarted = this.sql.exec(
        `UPDATE refunds SET state = 'confirming', confirm_attempts = 0, next_attempt_at = ?, updated_at = ?
          WHERE refund_id = ? AND state = 'unconfirmed'`,
        now,
        now,
        hint.refundId,
      ).rowsWritten;
      return restarted > 0 ? "restarted" : "known";
    }
    this.sql.exec(
      "INSERT INTO refund_hints (event_id, refund_id, received_at, payload) VALUES (?, ?, ?, ?)",
      hint.eventId,
      hint.refundId,
      hint.receivedAt,
      hint.payload,
    );
    // A new hint for a known refund means its status may have changed: confirm it again.
    this.sql.exec(
      `INSERT INTO refunds (refund_id, payment_txn_ref, state, confirm_attempts, next_attempt_at, updated_at)
       VALUES (?, ?, 'confirming', 0, ?, ?)
       ON CONFLICT (refund_id) DO UPDATE SET state = 'confirming', confirm_attempts = 0,
         next_attempt_at = excluded.next_attempt_at, last_error = NULL, updated_at = excluded.updated_at`,
      hint.refundId,
      hint.paymentTxnRef,
      now,
      now,
    );
    return "new";
  }

  due(now: number, limit: number): DueRefund[] {
    return this.sql
      .exec<{ refund_id: string; payment_txn_ref: string; confirm_attempts: number }>(
        `SELECT refund_id, payment_txn_ref, confirm_attempts FROM refunds
          WHERE state = 'confirming' AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?`,
        now,
        limit,
      )
      .toArray()
      .map((r) => ({ refundId: r.refund_id, paymentTxnRef: r.payment_txn_ref, confirmAttempts: r.confirm_attempts }));
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

  countAttempt(refundId: string, now: number): void {
    this.sql.exec(
      "UPDATE refunds SET confirm_attempts = confirm_attempts + 1, updated_at = ? WHERE refund_id = ?",
      now,
      refundId,
    );
  }

  settle(
    refundId: string,
    state: "confirmed" | "unconfirmed",
    now: number,
    detail: { status?: string; error?: string },
  ): void {
    this.sql.exec(
      "UPDATE refunds SET state = ?, confirmed_status = ?, last_error = ?, next_attempt_at = NULL, updated_at = ? WHERE refund_id = ?",
      state,
      detail.status ?? null,
      detail.error ?? null,
      now,
      refundId,
    );
  }

  retryAt(refundId: string, at: number, now: number, error: string): void {
    this.sql.exec(
      "UPDATE refunds SET next_attempt_at = ?, last_error = ?, updated_at = ? WHERE refund_id = ?",
      at,
      error,
      now,
      refundId,
    );
  }
}
