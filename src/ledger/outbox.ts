// The outbox's SQL: which accepted event is next to forward, and what became of each attempt.
// Pure storage helpers; the Ledger decides when to call them.

import type { ForwardEvent } from "../egress/deliver";

export type OutboxState = "pending" | "delivered" | "dead";

export interface OutboxHead extends ForwardEvent {
  readonly seq: number;
  readonly cycleAttempts: number;
  readonly nextAttemptAt: number;
}

type HeadRow = {
  seq: number;
  event_id: string;
  cycle_attempts: number;
  next_attempt_at: number;
  provider: string;
  kind: string;
  object_ref: string;
  status: string;
  previous_status: string | null;
  received_at: string;
  payload: string;
  unverified: string | null;
  source: string;
};

/** The next value of the outbox's change counter: every write to a row sets it, so the read model
 *  knows what changed since its last snapshot (ledger/index.ts) without a row of its own. */
const NEXT_CHANGE = "(SELECT coalesce(max(changed), 0) + 1 FROM outbox)";

export class Outbox {
  constructor(private readonly sql: SqlStorage) {}

  enqueue(seq: number, eventId: string, now: number): void {
    this.sql.exec(
      `INSERT INTO outbox (seq, event_id, state, cycle_attempts, next_attempt_at, updated_at, changed)
       VALUES (?, ?, 'pending', 0, ?, ?, ${NEXT_CHANGE})`,
      seq,
      eventId,
      now,
      now,
    );
  }

  hasPending(): boolean {
    return this.sql.exec("SELECT 1 FROM outbox WHERE state = 'pending' LIMIT 1").toArray().length > 0;
  }

  /** When the head of the queue is due (null: nothing pending): the outbox's next alarm. */
  nextDue(): number | null {
    return (
      this.sql
        .exec<{ at: number }>("SELECT next_attempt_at AS at FROM outbox WHERE state = 'pending' ORDER BY seq LIMIT 1")
        .toArray()[0]?.at ?? null
    );
  }

  /** The earliest pending event: events of one object are forwarded strictly in this order. */
  head(): OutboxHead | null {
    const row = this.sql
      .exec<HeadRow>(
        `SELECT o.seq, o.event_id, o.cycle_attempts, o.next_attempt_at, e.provider, e.kind, e.object_ref,
                e.status, e.previous_status, e.received_at, e.payload, e.unverified, e.source
           FROM outbox o JOIN events e ON e.seq = o.seq
          WHERE o.state = 'pending' ORDER BY o.seq LIMIT 1`,
      )
      .toArray()[0];
    if (!row) return null;
    return {
      seq: row.seq,
      eventId: row.event_id,
      cycleAttempts: row.cycle_attempts,
      nextAttemptAt: row.next_attempt_at,
      provider: row.provider,
      kind: row.kind,
      objectRef: row.object_ref,
      status: row.status,
      previousStatus: row.previous_status,
      receivedAt: row.received_at,
      data: row.payload,
      unverified: row.unverified,
      source: row.source,
    };
  }

  /** Records an attempt as in flight before the request; returns its id. */
  beginAttempt(head: OutboxHead, now: number): number {
    this.sql.exec(
      `UPDATE outbox SET cycle_attempts = cycle_attempts + 1, updated_at = ?, changed = ${NEXT_CHANGE} WHERE seq = ?`,
      now,
      head.seq,
    );
    return this.sql
      .exec<{ id: number }>(
        "INSERT INTO delivery_attempts (event_id, started_at, outcome) VALUES (?, ?, 'in_flight') RETURNING id",
        head.eventId,
        now,
      )
      .one().id;
  }

  finishAttempt(
    id: number,
    now: number,
    outcome: "delivered" | "failed" | "interrupted",
    httpStatus: number | null,
    error: string | null,
  ): void {
    this.sql.exec(
      "UPDATE delivery_attempts SET finished_at = ?, outcome = ?, http_status = ?, error = ? WHERE id = ?",
      now,
      outcome,
      httpStatus,
      error,
      id,
    );
  }

  /** Attempts left in flight by an instance that stopped mid-request (eviction, crash, deploy). A run
   *  that throws closes its own attempt (delivery.ts); this closes what no run could. */
  closeInterrupted(now: number): void {
    this.sql.exec(
      "UPDATE delivery_attempts SET outcome = 'interrupted', finished_at = ?, error = 'the gateway stopped during the request' WHERE outcome = 'in_flight'",
      now,
    );
  }

  setState(seq: number, state: OutboxState, now: number, lastError: string | null): void {
    this.sql.exec(
      `UPDATE outbox SET state = ?, last_error = ?, updated_at = ?, changed = ${NEXT_CHANGE} WHERE seq = ?`,
      state,
      lastError,
      now,
      seq,
    );
  }

  scheduleRetry(seq: number, at: number, now: number, lastError: string): void {
    this.sql.exec(
      `UPDATE outbox SET next_attempt_at = ?, last_error = ?, updated_at = ?, changed = ${NEXT_CHANGE} WHERE seq = ?`,
      at,
      lastError,
      now,
      seq,
    );
  }

  /** Puts events back in the queue with a fresh retry budget; returns the event ids re-queued. */
  requeue(where: { eventIds: readonly string[] } | { state: "dead" }, now: number): string[] {
    const [clause, arg] =
      "eventIds" in where
        ? ["event_id IN (SELECT value FROM json_each(?))", JSON.stringify(where.eventIds)]
        : ["state = ?", where.state];
    return this.sql
      .exec<{ event_id: string }>(
        `UPDATE outbox SET state = 'pending', cycle_attempts = 0, next_attempt_at = ?, updated_at = ?, changed = ${NEXT_CHANGE}
          WHERE ${clause} RETURNING event_id`,
        now,
        now,
        arg,
      )
      .toArray()
      .map((r) => r.event_id);
  }
}
