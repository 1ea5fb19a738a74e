// The outbox's SQL: one queue per destination (a row per accepted event and destination that takes
// its type), which event is next to forward to each, and what became of each attempt. Pure storage
// helpers; the Ledger decides when to call them.

import type { ForwardEvent } from "../egress/deliver";

export type OutboxState = "pending" | "delivered" | "dead";

/** Per event (seq), its delivery over its destinations: dead if any destination gave up on it, else
 *  pending while any still waits, else delivered; with the figures the report and the read model show. */
export const DELIVERY_PER_EVENT = `SELECT seq,
    CASE WHEN sum(state = 'dead') > 0 THEN 'dead' WHEN sum(state = 'pending') > 0 THEN 'pending' ELSE 'delivered' END
      AS delivery,
    max(cycle_attempts) AS attempts_this_cycle,
    min(CASE WHEN state = 'pending' THEN next_attempt_at END) AS next_attempt_at,
    max(last_error) AS last_error, max(updated_at) AS delivery_updated_at, max(changed) AS changed
  FROM outbox GROUP BY seq`;

export interface OutboxHead extends ForwardEvent {
  readonly seq: number;
  readonly destination: string;
  readonly cycleAttempts: number;
  readonly nextAttemptAt: number;
}

type HeadRow = {
  seq: number;
  destination: string;
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

/** The destinations that take an event type; throws when they cannot be known (a configuration
 *  error), so nothing is recorded without its queues. */
export type Route = (type: string) => readonly string[];

export class Outbox {
  constructor(
    private readonly sql: SqlStorage,
    private readonly route: Route,
  ) {}

  /** Queues an accepted event for each destination that takes its type. */
  enqueue(seq: number, eventId: string, type: string, now: number): void {
    for (const destination of this.route(type)) {
      this.sql.exec(
        `INSERT INTO outbox (seq, destination, event_id, state, cycle_attempts, next_attempt_at, updated_at, changed)
         VALUES (?, ?, ?, 'pending', 0, ?, ?, ${NEXT_CHANGE})`,
        seq,
        destination,
        eventId,
        now,
        now,
      );
    }
  }

  /** The destinations with something pending. */
  pendingDestinations(): string[] {
    return this.sql
      .exec<{ destination: string }>(
        "SELECT DISTINCT destination FROM outbox WHERE state = 'pending' ORDER BY destination",
      )
      .toArray()
      .map((r) => r.destination);
  }

  hasPending(): boolean {
    return this.sql.exec("SELECT 1 FROM outbox WHERE state = 'pending' LIMIT 1").toArray().length > 0;
  }

  /** When the earliest of the destinations' queue heads is due (null: nothing pending). */
  nextDue(): number | null {
    return this.sql
      .exec<{ at: number | null }>(
        `SELECT min(next_attempt_at) AS at FROM
           (SELECT next_attempt_at, min(seq) FROM outbox WHERE state = 'pending' GROUP BY destination)`,
      )
      .one().at;
  }

  /** A destination's earliest pending event: each destination gets an object's events in this order. */
  head(destination: string): OutboxHead | null {
    const row = this.sql
      .exec<HeadRow>(
        `SELECT o.seq, o.destination, o.event_id, o.cycle_attempts, o.next_attempt_at, e.provider, e.kind,
                e.object_ref, e.status, e.previous_status, e.received_at, e.payload, e.unverified, e.source
           FROM outbox o JOIN events e ON e.seq = o.seq
          WHERE o.destination = ? AND o.state = 'pending' ORDER BY o.seq LIMIT 1`,
        destination,
      )
      .toArray()[0];
    if (!row) return null;
    return {
      seq: row.seq,
      destination: row.destination,
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
      `UPDATE outbox SET cycle_attempts = cycle_attempts + 1, updated_at = ?, changed = ${NEXT_CHANGE}
        WHERE seq = ? AND destination = ?`,
      now,
      head.seq,
      head.destination,
    );
    return this.sql
      .exec<{ id: number }>(
        `INSERT INTO delivery_attempts (event_id, destination, started_at, outcome)
         VALUES (?, ?, ?, 'in_flight') RETURNING id`,
        head.eventId,
        head.destination,
        now,
      )
      .one().id;
  }

  /** Takes back an attempt that made no request (the destination's gate said to wait): its row is
   *  deleted, the retry budget restored, and the head waits until `retryAt`. */
  takeBackAttempt(id: number, head: OutboxHead, retryAt: number, now: number, reason: string): void {
    this.sql.exec("DELETE FROM delivery_attempts WHERE id = ?", id);
    this.sql.exec(
      `UPDATE outbox SET cycle_attempts = cycle_attempts - 1, next_attempt_at = ?, last_error = ?, updated_at = ?,
              changed = ${NEXT_CHANGE}
        WHERE seq = ? AND destination = ?`,
      retryAt,
      reason,
      now,
      head.seq,
      head.destination,
    );
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

  setState(head: OutboxHead, state: OutboxState, now: number, lastError: string | null): void {
    this.sql.exec(
      `UPDATE outbox SET state = ?, last_error = ?, updated_at = ?, changed = ${NEXT_CHANGE}
        WHERE seq = ? AND destination = ?`,
      state,
      lastError,
      now,
      head.seq,
      head.destination,
    );
  }

  scheduleRetry(head: OutboxHead, at: number, now: number, lastError: string): void {
    this.sql.exec(
      `UPDATE outbox SET next_attempt_at = ?, last_error = ?, updated_at = ?, changed = ${NEXT_CHANGE}
        WHERE seq = ? AND destination = ?`,
      at,
      lastError,
      now,
      head.seq,
      head.destination,
    );
  }

  /** Puts events back in their destinations' queues with a fresh retry budget; returns the ids of the
   *  events re-queued (once each, whatever the number of destinations). */
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
      .map((r) => r.event_id)
      .filter((id, i, all) => all.indexOf(id) === i);
  }
}
