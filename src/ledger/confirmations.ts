// The confirmations' SQL: which hints were received (PortOne's refund webhooks, Midtrans's and Payment
// Options' notifications), and where each subject's confirmation with its provider's API stands
// (confirming, confirmed, unconfirmed). A hint proves too little to forward, so nothing in it is trusted
// and nothing it says may cost more than a bounded amount: one hint is kept per subject and claimed
// status (its identity), the API is asked about one subject at most once a minute however many hints
// come, and the hints and subjects one object may keep are bounded.

import type { ConfirmerName } from "../providers/proven";
import type { LedgerStore } from "./store";
import { HOUR_MS, MINUTE_MS } from "../lib/time";

export interface HintInput {
  /** The hint's identity (a repeat of it is a duplicate). */
  readonly eventId: string;
  readonly confirmer: ConfirmerName;
  /** What the API is asked about: a refund's id, a transaction's id. */
  readonly subject: string;
  /** The reference asked under beside the subject (a refund's payment), else the object's. */
  readonly parentRef: string;
  /** The status the hint claims, as sent (null when it names none). */
  readonly claimed: string | null;
  /** The hint's body, JSON (card numbers masked). */
  readonly payload: string;
  readonly receivedAt: string;
}

export interface DueConfirmation {
  readonly confirmer: ConfirmerName;
  readonly subject: string;
  readonly parentRef: string;
  readonly confirmAttempts: number;
  /** The status the latest hint claimed, if any. */
  readonly claimed: string | null;
}

/** "limited": not kept, the object holds as many subjects, or the subject as many hints, as it may. */
export type HintKept = "new" | "restarted" | "known" | "limited";

export const CONFIRMATION_LIMITS = {
  /** Subjects one object may have being kept (a payment is refunded in a few parts at most). */
  subjectsPerObject: 100,
  /** The same, for an object the provider's API said it does not know (PortOne's payment). */
  subjectsPerUnknownObject: 10,
  /** Hints (distinct claimed statuses) kept per subject. */
  hintsPerSubject: 10,
};
/** A provider's API is asked about one subject at most this often, in ms, however many hints come. */
export const ASK_EVERY_MS = MINUTE_MS;
/** After PortOne's API said it does not know the payment, hints wait this long before it is asked again, in ms. */
export const UNKNOWN_PAYMENT_WAIT_MS = HOUR_MS;

/** When the subject may be asked about next (SQL over its row: `?now`, `?unknownUntil`). */
const EARLIEST_ASK = `max(?, coalesce(asked_at, 0) + ${ASK_EVERY_MS}, ?)`;

export class Confirmations {
  constructor(private readonly store: LedgerStore) {}

  private get sql(): SqlStorage {
    return this.store.sql;
  }

  /** Keeps the hint and (re)starts its subject's confirmation. `unknownPaymentAt`: when PortOne last
   *  said it does not know this payment (null: never). */
  recordHint(hint: HintInput, now: number, unknownPaymentAt: number | null): HintKept {
    return this.store.write(() => {
      const unknownUntil = unknownPaymentAt === null ? 0 : unknownPaymentAt + UNKNOWN_PAYMENT_WAIT_MS;
      if (this.sql.exec("SELECT 1 FROM hints WHERE event_id = ?", hint.eventId).toArray().length > 0) {
        // Sent again after the subject was given up as unconfirmed: ask again (the status may be there now).
        const restarted = this.sql.exec(
          `UPDATE confirmations SET state = 'confirming', confirm_attempts = 0, next_attempt_at = ${EARLIEST_ASK}, updated_at = ?
            WHERE subject = ? AND state = 'unconfirmed'`,
          now,
          unknownUntil,
          now,
          hint.subject,
        ).rowsWritten;
        return restarted > 0 ? "restarted" : "known";
      }
      if (this.#full(hint.subject, unknownPaymentAt !== null)) return "limited";
      this.sql.exec(
        "INSERT INTO hints (event_id, subject, received_at, payload) VALUES (?, ?, ?, ?)",
        hint.eventId,
        hint.subject,
        hint.receivedAt,
        hint.payload,
      );
      // A hint with another status for a known subject means its status may have changed: confirm it again.
      this.sql.exec(
        `INSERT INTO confirmations (subject, parent_ref, state, confirm_attempts, next_attempt_at, updated_at, hinted_status, confirmer)
         VALUES (?, ?, 'confirming', 0, max(?, ?), ?, ?, ?)
         ON CONFLICT (subject) DO UPDATE SET state = 'confirming', confirm_attempts = 0,
           next_attempt_at = ${EARLIEST_ASK}, last_error = NULL, updated_at = ?, hinted_status = ?`,
        hint.subject,
        hint.parentRef,
        now,
        unknownUntil,
        now,
        hint.claimed,
        hint.confirmer,
        now,
        unknownUntil,
        now,
        hint.claimed,
      );
      return "new";
    });
  }

  /** Whether a new hint of this subject may not be kept: the subject has all the hints it may, or it
   *  would be a subject too many for the object. */
  #full(subject: string, unknownObject: boolean): boolean {
    const counts = this.sql
      .exec<{ subjects: number; hints: number; known: number }>(
        `SELECT (SELECT count(*) FROM confirmations) AS subjects,
                (SELECT count(*) FROM hints WHERE subject = ?1) AS hints,
                EXISTS (SELECT 1 FROM confirmations WHERE subject = ?1) AS known`,
        subject,
      )
      .one();
    const limits = CONFIRMATION_LIMITS;
    const most = unknownObject ? limits.subjectsPerUnknownObject : limits.subjectsPerObject;
    return counts.hints >= limits.hintsPerSubject || (counts.known === 0 && counts.subjects >= most);
  }

  due(now: number, limit: number): DueConfirmation[] {
    return this.sql
      .exec<{
        confirmer: ConfirmerName;
        subject: string;
        parent_ref: string;
        confirm_attempts: number;
        hinted_status: string | null;
      }>(
        `SELECT confirmer, subject, parent_ref, confirm_attempts, hinted_status FROM confirmations
          WHERE state = 'confirming' AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?`,
        now,
        limit,
      )
      .toArray()
      .map((r) => ({
        confirmer: r.confirmer,
        subject: r.subject,
        parentRef: r.parent_ref,
        confirmAttempts: r.confirm_attempts,
        claimed: r.hinted_status,
      }));
  }

  /** Whether this object ever received a hint. */
  any(): boolean {
    return this.sql.exec("SELECT 1 FROM confirmations LIMIT 1").toArray().length > 0;
  }

  /** Earliest time a confirmation is due, or null. */
  nextDue(): number | null {
    return this.sql
      .exec<{ at: number | null }>("SELECT min(next_attempt_at) AS at FROM confirmations WHERE state = 'confirming'")
      .one().at;
  }

  /** The provider's API is being asked about the subject now. */
  countAttempt(subject: string, now: number): void {
    this.store.write(() => {
      this.sql.exec(
        "UPDATE confirmations SET confirm_attempts = confirm_attempts + 1, asked_at = ?, updated_at = ? WHERE subject = ?",
        now,
        now,
        subject,
      );
    });
  }

  settle(
    subject: string,
    state: "confirmed" | "unconfirmed",
    now: number,
    detail: { status?: string; error?: string },
  ): void {
    this.store.write(() => {
      this.sql.exec(
        "UPDATE confirmations SET state = ?, confirmed_status = ?, last_error = ?, next_attempt_at = NULL, updated_at = ? WHERE subject = ?",
        state,
        detail.status ?? null,
        detail.error ?? null,
        now,
        subject,
      );
    });
  }

  /** Every subject still being confirmed is given up as unconfirmed (PortOne does not know the payment). */
  giveUpAll(now: number, error: string): number {
    return this.store.write(() => {
      return this.sql.exec(
        `UPDATE confirmations SET state = 'unconfirmed', last_error = ?, next_attempt_at = NULL, updated_at = ?
          WHERE state = 'confirming'`,
        error,
        now,
      ).rowsWritten;
    });
  }

  retryAt(subject: string, at: number, now: number, error: string): void {
    this.store.write(() => {
      this.sql.exec(
        "UPDATE confirmations SET next_attempt_at = ?, last_error = ?, updated_at = ? WHERE subject = ?",
        at,
        error,
        now,
        subject,
      );
    });
  }
}
