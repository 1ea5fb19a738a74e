// The outbox's SQL: one queue per destination (an accepted event names the destinations that take
// its type), which event is next to forward to each, and what became of each attempt. An event's row
// for a destination is written when its first attempt ends (delivered: one insert; failed or taken
// back: the row and its history), and holds its current attempt; a later attempt is written before
// its request and updated after it. A first attempt cut short by a crash leaves no row: the alarm,
// still set, runs it again (the origin may see it twice, as with any retry). So a delivered event
// costs the event row and one outbox row (plus the alarm's set and clear), per destination.
// Storage helpers over the ledger's store (store.ts: each change is a write); the Ledger decides when.

import type { ForwardEvent } from "../egress/deliver";
import type { Route, Routed, Routing } from "./routing";
import type { LedgerStore } from "./store";

/** Per event (seq), its delivery over its destinations: dead if any destination gave up on it, else
 *  pending while any still waits, else delivered; with the figures the report and the read model show. */
export const DELIVERY_PER_EVENT = `SELECT seq,
    CASE WHEN sum(state = 'dead') > 0 THEN 'dead' WHEN sum(state = 'pending') > 0 THEN 'pending' ELSE 'delivered' END
      AS delivery,
    max(cycle_attempts) AS attempts_this_cycle,
    min(CASE WHEN state = 'pending' THEN next_attempt_at END) AS next_attempt_at,
    max(last_error) AS last_error, max(updated_at) AS delivery_updated_at, max(changed) AS changed
  FROM deliveries GROUP BY seq`;

/** When the earliest of the destinations' queue heads is due (NULL: nothing pending); one value. */
export const NEXT_DUE = `SELECT min(next_attempt_at) AS at FROM
    (SELECT next_attempt_at, min(seq) FROM deliveries WHERE state = 'pending' GROUP BY destination)`;

/** Every delivery attempt: those over and kept in the history, then each row's current one (in
 *  flight, or the one that delivered it). */
export const ALL_ATTEMPTS = `SELECT id, event_id, destination, started_at, finished_at, outcome, http_status, error
    FROM delivery_attempts
  UNION ALL
  SELECT NULL, event_id, destination, attempt_started_at, delivered_at,
         CASE state WHEN 'delivered' THEN 'delivered' ELSE 'in_flight' END, http_status, NULL
    FROM outbox WHERE attempt_started_at IS NOT NULL`;

/** How an attempt that did not deliver ended. */
export interface EndedAttempt {
  readonly outcome: "failed" | "interrupted";
  readonly httpStatus: number | null;
  readonly error: string;
}

export interface OutboxHead extends ForwardEvent {
  readonly seq: number;
  readonly destination: string;
  readonly cycleAttempts: number;
  readonly nextAttemptAt: number;
  /** Whether the head has a row of its own yet (false: only queued, on its event's row). */
  readonly hasRow: boolean;
  /** Its attempts answered "not ready" so far (alarm.ts: they use none of the retry budget). */
  readonly notReadyAttempts: number;
}

/** An attempt begun on a head: when, and whether its row holds it yet. */
export interface Attempt {
  readonly head: OutboxHead;
  readonly startedAt: number;
  written: boolean;
}

type HeadRow = {
  seq: number;
  destination: string;
  event_id: string;
  cycle_attempts: number;
  next_attempt_at: number;
  has_row: number;
  provider: string;
  kind: string;
  object_ref: string;
  status: string;
  previous_status: string | null;
  received_at: string;
  data: string;
  unverified: string | null;
  source: string;
  source_name: string | null;
  type: string | null;
  original: string | null;
  not_ready_attempts: number;
};

/** The event's columns a head carries (`e`: its row in events). */
const EVENT_COLUMNS = `e.provider, e.kind, e.object_ref, e.status, e.previous_status, e.received_at, e.data, e.unverified,
  e.source, e.source_name, e.type, e.original`;

function headOf(row: HeadRow): OutboxHead {
  return {
    seq: row.seq,
    destination: row.destination,
    eventId: row.event_id,
    cycleAttempts: row.cycle_attempts,
    nextAttemptAt: row.next_attempt_at,
    hasRow: row.has_row === 1,
    provider: row.provider,
    kind: row.kind,
    objectRef: row.object_ref,
    status: row.status,
    previousStatus: row.previous_status,
    receivedAt: row.received_at,
    data: row.data,
    unverified: row.unverified,
    type: row.type,
    source: row.source,
    sourceName: row.source_name,
    original: row.original,
    notReadyAttempts: row.not_ready_attempts,
  };
}

/** The next value of the outbox's change counter: every write to a row sets it, so the read model
 *  knows what changed since its last snapshot (read-model.ts) without a row of its own. */
const NEXT_CHANGE = "(SELECT coalesce(max(changed), 0) + 1 FROM outbox)";

/** What to re-queue: some events (at every destination, or only where they are dead), or every dead letter. */
export type Requeue = { readonly eventIds?: readonly string[]; readonly state?: "dead" };

export class Outbox {
  constructor(
    private readonly store: LedgerStore,
    private readonly route: Route,
  ) {}

  private get sql(): SqlStorage {
    return this.store.sql;
  }

  /** Where an accepted event goes (its destinations are stored on the event, JSON: it waits in each
   *  one's queue, the `deliveries` view, with no row of its own until begun). */
  routingOf(event: Routed): Routing {
    return this.route(event);
  }

  hasPending(): boolean {
    return this.sql.exec("SELECT 1 FROM deliveries WHERE state = 'pending' LIMIT 1").toArray().length > 0;
  }

  /** When the earliest of the destinations' queue heads is due (null: nothing pending). */
  nextDue(): number | null {
    return this.sql.exec<{ at: number | null }>(NEXT_DUE).one().at;
  }

  /** Each destination's earliest pending event, by destination name, in one read: the queues a
   *  run has to serve and where each begins. */
  heads(): OutboxHead[] {
    return this.sql
      .exec<HeadRow>(
        `SELECT h.seq, h.destination, h.event_id, h.cycle_attempts, h.next_attempt_at, h.has_row, h.not_ready_attempts,
                ${EVENT_COLUMNS}
           FROM (SELECT min(seq) AS seq, destination, event_id, cycle_attempts, next_attempt_at,
                        updated_at IS NOT NULL AS has_row, not_ready_attempts
                   FROM deliveries WHERE state = 'pending' GROUP BY destination) h
           JOIN events e ON e.seq = h.seq
          ORDER BY h.destination`,
      )
      .toArray()
      .map(headOf);
  }

  /** A destination's earliest pending event: each destination gets an object's events in this order. */
  head(destination: string): OutboxHead | null {
    const row = this.sql
      .exec<HeadRow>(
        `SELECT o.seq, o.destination, o.event_id, o.cycle_attempts, o.next_attempt_at, o.updated_at IS NOT NULL AS has_row,
                o.not_ready_attempts, ${EVENT_COLUMNS}
           FROM deliveries o JOIN events e ON e.seq = o.seq
          WHERE o.destination = ? AND o.state = 'pending' ORDER BY o.seq LIMIT 1`,
        destination,
      )
      .toArray()[0];
    return row ? headOf(row) : null;
  }

  /** Begins an attempt: recorded on the head's own row before the request when it has one (one row
   *  written), counted and in flight until it ends; a first attempt is written when it ends. */
  beginAttempt(head: OutboxHead, now: number): Attempt {
    const attempt = { head, startedAt: now, written: false };
    if (head.hasRow) this.#write(attempt);
    return attempt;
  }

  #write(attempt: Attempt): void {
    const { head, startedAt } = attempt;
    this.store.write((sql) =>
      sql.exec(
        `INSERT INTO outbox (seq, destination, event_id, state, cycle_attempts, next_attempt_at, updated_at, changed,
                           attempt_started_at)
       VALUES (?, ?, ?, 'pending', 1, ?, ?, ${NEXT_CHANGE}, ?)
       ON CONFLICT (seq, destination) DO UPDATE SET cycle_attempts = cycle_attempts + 1,
         attempt_started_at = excluded.attempt_started_at, updated_at = excluded.updated_at, changed = excluded.changed`,
        head.seq,
        head.destination,
        head.eventId,
        startedAt,
        startedAt,
        startedAt,
      ),
    );
    attempt.written = true;
  }

  /** Makes a destination's waiting rows due now (it can take events again); returns how many. */
  makeDue(destination: string, now: number): number {
    return this.store.write(
      (sql) =>
        sql.exec(
          `UPDATE outbox SET next_attempt_at = ?, updated_at = ?
        WHERE destination = ? AND state = 'pending' AND next_attempt_at > ?`,
          now,
          now,
          destination,
          now,
        ).rowsWritten,
    );
  }

  /** Takes back an attempt that made no request (the destination's gate said to wait): the retry
   *  budget is restored and the head waits until `retryAt`. */
  takeBackAttempt(attempt: Attempt, retryAt: number, now: number, reason: string): void {
    this.store.write(() => {
      const { head } = attempt;
      if (!attempt.written) {
        this.sql.exec(
          `INSERT INTO outbox (seq, destination, event_id, state, cycle_attempts, next_attempt_at, last_error, updated_at,
                               changed)
           VALUES (?, ?, ?, 'pending', 0, ?, ?, ?, ${NEXT_CHANGE})
           ON CONFLICT (seq, destination) DO UPDATE SET next_attempt_at = excluded.next_attempt_at,
             last_error = excluded.last_error, updated_at = excluded.updated_at, changed = excluded.changed`,
          head.seq,
          head.destination,
          head.eventId,
          retryAt,
          reason,
          now,
        );
        return;
      }
      this.sql.exec(
        `UPDATE outbox SET cycle_attempts = cycle_attempts - 1, attempt_started_at = NULL, next_attempt_at = ?,
                last_error = ?, updated_at = ?, changed = ${NEXT_CHANGE}
          WHERE seq = ? AND destination = ?`,
        retryAt,
        reason,
        now,
        head.seq,
        head.destination,
      );
    });
  }

  /** The attempt reached the destination: the row is done (one row written, no attempt row). */
  delivered(attempt: Attempt, now: number, httpStatus: number): void {
    this.store.write(() => {
      const { head } = attempt;
      if (!attempt.written) {
        this.sql.exec(
          `INSERT INTO outbox (seq, destination, event_id, state, cycle_attempts, next_attempt_at, updated_at, changed,
                               attempt_started_at, delivered_at, http_status)
           VALUES (?, ?, ?, 'delivered', 1, ?, ?, ${NEXT_CHANGE}, ?, ?, ?)`,
          head.seq,
          head.destination,
          head.eventId,
          attempt.startedAt,
          now,
          attempt.startedAt,
          now,
          httpStatus,
        );
        return;
      }
      this.sql.exec(
        `UPDATE outbox SET state = 'delivered', delivered_at = ?, http_status = ?, last_error = NULL, updated_at = ?,
                changed = ${NEXT_CHANGE}
          WHERE seq = ? AND destination = ?`,
        now,
        httpStatus,
        now,
        head.seq,
        head.destination,
      );
    });
  }

  /** The attempt failed, or its run did: it moves to the attempts history, and the row waits until
   *  `retryAt`, or is dead-lettered when a failed attempt has no retry left (`retryAt` null). */
  failed(begun: Attempt, now: number, attempt: EndedAttempt, retryAt: number | null): void {
    this.store.write(() => {
      const { head } = begun;
      if (!begun.written) this.#write(begun);
      this.sql.exec(
        `INSERT INTO delivery_attempts (event_id, destination, started_at, finished_at, outcome, http_status, error)
         SELECT event_id, destination, coalesce(attempt_started_at, ?), ?, ?, ?, ? FROM outbox
          WHERE seq = ? AND destination = ?`,
        now,
        now,
        attempt.outcome,
        attempt.httpStatus,
        attempt.error,
        head.seq,
        head.destination,
      );
      const dead = retryAt === null && attempt.outcome === "failed";
      this.sql.exec(
        `UPDATE outbox SET state = ?, attempt_started_at = NULL, next_attempt_at = coalesce(?, next_attempt_at),
                last_error = ?, updated_at = ?, changed = ${NEXT_CHANGE}
          WHERE seq = ? AND destination = ?`,
        dead ? "dead" : "pending",
        retryAt,
        attempt.error,
        now,
        head.seq,
        head.destination,
      );
    });
  }

  /** The attempt was answered "not ready" (alarm.ts): kept in the history as such, it gives back the
   *  retry budget it took, and the row waits until `retryAt`. */
  notReady(begun: Attempt, now: number, httpStatus: number | null, error: string, retryAt: number): void {
    this.store.write(() => {
      const { head } = begun;
      if (!begun.written) this.#write(begun);
      this.sql.exec(
        `INSERT INTO delivery_attempts (event_id, destination, started_at, finished_at, outcome, http_status, error)
         SELECT event_id, destination, coalesce(attempt_started_at, ?), ?, 'not_ready', ?, ? FROM outbox
          WHERE seq = ? AND destination = ?`,
        now,
        now,
        httpStatus,
        error,
        head.seq,
        head.destination,
      );
      this.sql.exec(
        `UPDATE outbox SET cycle_attempts = cycle_attempts - 1, not_ready_attempts = not_ready_attempts + 1,
                attempt_started_at = NULL, next_attempt_at = ?, last_error = ?, updated_at = ?, changed = ${NEXT_CHANGE}
          WHERE seq = ? AND destination = ?`,
        retryAt,
        error,
        now,
        head.seq,
        head.destination,
      );
    });
  }

  /** When this object's first accepted event arrived (epoch ms; null: none). */
  firstAcceptedAt(): number | null {
    const at = this.sql
      .exec<{ at: string | null }>("SELECT min(received_at) AS at FROM events WHERE outcome = 'accepted'")
      .one().at;
    return at === null ? null : Date.parse(at);
  }

  /** Whether an earlier event of this object was delivered to the head's destination. */
  deliveredBefore(head: OutboxHead): boolean {
    return (
      this.sql
        .exec(
          "SELECT 1 FROM outbox WHERE destination = ? AND state = 'delivered' AND seq < ? LIMIT 1",
          head.destination,
          head.seq,
        )
        .toArray().length > 0
    );
  }

  /** Attempts left in flight by an instance that stopped mid-request (eviction, crash, deploy). A run
   *  that throws closes its own attempt (alarm.ts); this closes what no run could. */
  closeInterrupted(now: number): void {
    const error = "the gateway stopped during the request";
    const inFlight = "state = 'pending' AND attempt_started_at IS NOT NULL";
    // Read first, outside a write (one query, and it fails the run at once if the outbox cannot be
    // read): most runs find nothing to close.
    const open = this.sql
      .exec<{ open: number }>(
        `SELECT EXISTS (SELECT 1 FROM outbox WHERE ${inFlight})
             OR EXISTS (SELECT 1 FROM delivery_attempts WHERE outcome = 'in_flight') AS open`,
      )
      .one().open;
    if (open === 0) return;
    this.store.write((sql) => {
      sql.exec(
        `INSERT INTO delivery_attempts (event_id, destination, started_at, finished_at, outcome, error)
         SELECT event_id, destination, attempt_started_at, ?, 'interrupted', ? FROM outbox WHERE ${inFlight}`,
        now,
        error,
      );
      sql.exec(
        `UPDATE outbox SET attempt_started_at = NULL, updated_at = ?, changed = ${NEXT_CHANGE} WHERE ${inFlight}`,
        now,
      );
      // Attempt rows left in flight by releases that wrote one before each request.
      sql.exec(
        "UPDATE delivery_attempts SET outcome = 'interrupted', finished_at = ?, error = ? WHERE outcome = 'in_flight'",
        now,
        error,
      );
    });
  }

  /** Puts events back in their destinations' queues with a fresh retry budget; returns the ids of the
   *  events re-queued (once each, whatever the number of destinations) and, per destination, how many
   *  of them were dead letters there. */
  requeue(where: Requeue, now: number): { ids: string[]; deadCleared: Map<string, number> } {
    return this.store.write(() => {
      // The events (a JSON list) and the state are bound as numbered parameters; NULL means "any".
      const matching = (ids: number, state: number) =>
        `(?${ids} IS NULL OR event_id IN (SELECT value FROM json_each(?${ids}))) AND (?${state} IS NULL OR state = ?${state})`;
      const ids = where.eventIds === undefined ? null : JSON.stringify(where.eventIds);
      const state = where.state ?? null;
      const dead = this.sql
        .exec<{ destination: string; n: number }>(
          `SELECT destination, count(*) AS n FROM outbox WHERE ${matching(1, 2)} AND state = 'dead' GROUP BY destination`,
          ids,
          state,
        )
        .toArray();
      const deadCleared = new Map(dead.map((r) => [r.destination, r.n]));
      // A delivered row's attempt is kept in the history before the row starts a new cycle.
      this.sql.exec(
        `INSERT INTO delivery_attempts (event_id, destination, started_at, finished_at, outcome, http_status)
       SELECT event_id, destination, coalesce(attempt_started_at, delivered_at), delivered_at, 'delivered', http_status
         FROM outbox WHERE ${matching(1, 2)} AND state = 'delivered' AND delivered_at IS NOT NULL`,
        ids,
        state,
      );
      const requeued = this.sql
        .exec<{ event_id: string }>(
          `UPDATE outbox SET state = 'pending', cycle_attempts = 0, next_attempt_at = ?1, updated_at = ?1,
                attempt_started_at = NULL, delivered_at = NULL, http_status = NULL, changed = ${NEXT_CHANGE}
          WHERE ${matching(2, 3)} RETURNING event_id`,
          now,
          ids,
          state,
        )
        .toArray()
        .map((r) => r.event_id)
        .filter((id, i, all) => all.indexOf(id) === i);
      return { ids: requeued, deadCleared };
    });
  }
}
