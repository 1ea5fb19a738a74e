// What this ledger tells the read model (D1, readmodel/): a snapshot of its object and of the events
// that changed since the last snapshot it applied, read from its own SQLite and sent in one batch.
// Durable and idempotent without a queue row per change: what changed is found from the events' seq
// and the outbox's change counter, both written in the transactions that change them, against a
// cursor moved only after D1 took the snapshot. The cursor lives in memory; a checkpoint of it is
// written to `meta` only every few events, so a snapshot costs no SQLite row most of the time. After a
// restart the changes since the checkpoint are sent again: D1's upserts write only what differs, so
// that costs rows read, not written. A D1 failure leaves the cursor, so the same changes (and any
// newer) are sent again later, after a backoff. A send never holds a delivery for long: a run waits for
// it at most SEND_DEADLINE_MS; past that it goes on in the background, and no second send starts while
// it is out (a slow D1 is told each change once, not once per run). The writer raises and resolves
// readmodel.lagging (readmodel/writer.ts): one place sees every ledger's sends. No payloads or customer
// data leave.

import { type EventRow, type ObjectRow, type Snapshot } from "../readmodel/rows";
import { typeOf } from "../providers/names";
import { clock } from "../lib/clock";
import { log } from "../lib/log";
import { errorText } from "../lib/result";
import { MINUTE_MS, SECOND_MS } from "../lib/time";
import { meta } from "./meta";
import { objectNameParts } from "../providers/names";
import { storedObjectName } from "./object-name";
import { ALL_ATTEMPTS, DELIVERY_PER_EVENT, NEXT_DUE } from "./outbox";
import type { LedgerStore } from "./store";

interface Cursor {
  readonly seq: number;
  readonly changed: number;
  /** The object's hints by state, "<confirming>/<unconfirmed>" (absent in checkpoints written before). */
  readonly hints?: string;
}
const NO_HINTS = "0/0";

/** The checkpoint is written once the cursor is this many events, or outbox changes, ahead of it. */
const CHECKPOINT_EVERY = { events: 8, changes: 32 };
/** How long a run waits for the read model to take a snapshot, in ms; past it, the send goes on alone. */
export const SEND_DEADLINE_MS = 500;
/** While a send is out past its deadline, the object looks again this often, in ms (its end wakes it
 *  sooner; this is for an object evicted meanwhile, whose send was lost with it). */
const SENDING_RECHECK_MS = 5_000;
/** Backoff after the read model (D1) failed, in ms: from 30 s, doubling, at most 10 minutes. */
const RETRY_MS = { first: 30 * SECOND_MS, max: 10 * MINUTE_MS };

type EventQueryRow = {
  seq: number;
  event_id: string;
  provider: string;
  kind: string;
  object_ref: string;
  status: string;
  outcome: string;
  source: string;
  received_at: string;
  merchant_order_ref: string | null;
  delivery: string | null;
  last_error: string | null;
  delivery_updated_at: number | null;
  attempts: number;
  delivered_at: number | null;
  pending_to: string | null;
  delivered_to: string | null;
  dead_to: string | null;
  type: string | null;
};

function checkpointOf(sql: SqlStorage): Cursor {
  return meta.get(sql, "read_model_cursor") ?? { seq: 0, changed: 0 };
}

function latest(sql: SqlStorage): Cursor {
  return sql
    .exec<{ seq: number; changed: number; hints: string }>(
      `SELECT (SELECT coalesce(max(seq), 0) FROM events) AS seq, (SELECT coalesce(max(changed), 0) FROM outbox) AS changed,
              (SELECT coalesce(sum(state = 'confirming'), 0) || '/' || coalesce(sum(state = 'unconfirmed'), 0)
                 FROM confirmations) AS hints`,
    )
    .one();
}

/** Whether `now` holds something `at` does not: a newer event, a newer outbox change, or other hint counts. */
function isAhead(now: Cursor, at: Cursor): boolean {
  return now.seq > at.seq || now.changed > at.changed || now.hints !== (at.hints ?? NO_HINTS);
}

/** One ledger's feed to the read model: what it has sent, and sending what changed since. */
export class ReadModelFeed {
  private get sql(): SqlStorage {
    return this.store.sql;
  }

  /** What D1 has taken (null until known in this instance: then the checkpoint). */
  #cursor: Cursor | null = null;
  /** The checkpoint as stored (this feed is the only writer of it while it lives; null: not read yet). */
  #checkpoint: Cursor | null = null;
  /** The object's name, once known (it never changes). */
  #name: string | null = null;
  /** The send still out, if any (a run stopped waiting for it at the deadline). */
  #sending: Promise<void> | null = null;
  /** After D1 failed: when to send again, and how many failures in a row. */
  #retryAt: number | null = null;
  #failures = 0;

  constructor(
    private readonly store: LedgerStore,
    private readonly apply: (snapshot: Snapshot) => Promise<void>,
    /** Has the object run again at `at` (a send that ended after its run stopped waiting left work). */
    private readonly wake: (at: number) => Promise<void>,
  ) {}

  #sent(): Cursor {
    this.#cursor ??= this.#storedCheckpoint();
    return this.#cursor;
  }

  #storedCheckpoint(): Cursor {
    this.#checkpoint ??= checkpointOf(this.sql);
    return this.#checkpoint;
  }

  /** Whether something changed that the read model has not taken yet. */
  behind(): boolean {
    return isAhead(latest(this.sql), this.#sent());
  }

  /** When the read model is to be sent to next (null: it has everything): now, after a backoff, or
   *  a while after a send still out (whose end wakes the object sooner). */
  dueAt(now: number): number | null {
    if (!this.behind()) return null;
    if (this.#sending !== null) return now + SENDING_RECHECK_MS;
    return Math.max(this.#retryAt ?? now, now);
  }

  /** Sends what changed, unless backing off or a send is still out, and waits for it at most
   *  `deadlineMs`. A D1 failure is logged and retried with backoff (the changes stay here); it never
   *  throws, nor fails the caller's run. */
  async sync(deadlineMs = SEND_DEADLINE_MS): Promise<void> {
    if (this.#sending === null) {
      if ((this.#retryAt ?? 0) > clock.now() || !this.behind()) return;
      this.#sending = this.#send().finally(() => {
        this.#sending = null;
      });
      // A send that ends after the run stopped waiting for it: what changed meanwhile is due then.
      void this.#sending
        .then(() => (this.behind() ? this.wake(this.#retryAt ?? clock.now()) : undefined))
        .catch(() => undefined);
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, deadlineMs)));
    try {
      await Promise.race([this.#sending, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  async #send(): Promise<void> {
    try {
      await this.#flush();
      this.#retryAt = null;
      this.#failures = 0;
    } catch (thrown) {
      this.#failures += 1;
      this.#retryAt = clock.now() + Math.min(RETRY_MS.first * 2 ** (this.#failures - 1), RETRY_MS.max);
      log("warn", "read model not updated; retried later, delivery goes on", {
        object_name: this.#name ?? storedObjectName(this.sql),
        error: errorText(thrown),
        retry_at: new Date(this.#retryAt).toISOString(),
      });
    }
  }

  /** Sends what changed since the last snapshot; throws when D1 fails (nothing is lost: retried). */
  async #flush(): Promise<number> {
    const since = this.#sent();
    const upTo = latest(this.sql);
    if (!isAhead(upTo, since)) return 0;
    this.#name ??= storedObjectName(this.sql);
    if (this.#name === null) return 0;
    const snapshot = readSnapshot(this.sql, this.#name, since, upTo);
    if (snapshot === null) return 0;
    await this.apply(snapshot);
    this.#cursor = upTo;
    const checkpoint = this.#storedCheckpoint();
    if (
      upTo.seq - checkpoint.seq >= CHECKPOINT_EVERY.events ||
      upTo.changed - checkpoint.changed >= CHECKPOINT_EVERY.changes
    ) {
      this.store.write((sql) => meta.set(sql, "read_model_cursor", upTo));
      this.#checkpoint = upTo;
    }
    return snapshot.events.length;
  }
}

function readSnapshot(sql: SqlStorage, name: string, since: Cursor, upTo: Cursor): Snapshot | null {
  const object = objectRow(sql, name);
  if (object === null) return null;
  const events = sql
    .exec<EventQueryRow>(
      `SELECT e.seq, e.event_id, e.provider, e.kind, e.object_ref, e.status, e.type, e.outcome, e.source, e.received_at,
              CASE WHEN json_valid(e.data) AND json_type(e.data, '$.merchant_order_ref') = 'text'
                   THEN json_extract(e.data, '$.merchant_order_ref') END AS merchant_order_ref,
              o.delivery, o.last_error, o.delivery_updated_at,
              (SELECT count(*) FROM (${ALL_ATTEMPTS}) a WHERE a.event_id = e.event_id) AS attempts,
              (SELECT min(finished_at) FROM (${ALL_ATTEMPTS}) a
                WHERE a.event_id = e.event_id AND a.outcome = 'delivered') AS delivered_at,
              (SELECT ',' || group_concat(d.destination, ',') || ',' FROM deliveries d
                WHERE d.seq = e.seq AND d.state = 'pending') AS pending_to,
              (SELECT ',' || group_concat(d.destination, ',') || ',' FROM outbox d
                WHERE d.seq = e.seq AND d.state = 'delivered') AS delivered_to,
              (SELECT ',' || group_concat(d.destination, ',') || ',' FROM outbox d
                WHERE d.seq = e.seq AND d.state = 'dead') AS dead_to
         FROM events e LEFT JOIN (${DELIVERY_PER_EVENT}) o ON o.seq = e.seq
        WHERE e.seq > ? OR o.changed > ?
        ORDER BY e.seq`,
      since.seq,
      since.changed,
    )
    .toArray()
    .map(eventRow);
  return { version: upTo.seq + upTo.changed, object, events };
}

function eventRow(r: EventQueryRow): EventRow {
  return {
    event_id: r.event_id,
    provider: r.provider,
    kind: r.kind,
    object_ref: r.object_ref,
    merchant_order_ref: r.merchant_order_ref,
    type: typeOf(r),
    status: r.status,
    outcome: r.outcome,
    source: r.source,
    received_at: Date.parse(r.received_at),
    seq: r.seq,
    delivery: r.delivery,
    attempts: r.attempts,
    last_error: r.last_error,
    delivered_at: r.delivered_at,
    delivery_updated_at: r.delivery_updated_at,
    pending_to: r.pending_to,
    delivered_to: r.delivered_to,
    dead_to: r.dead_to,
  };
}

type ObjectQueryRow = {
  first: string | null;
  last: string | null;
  merchant_order_ref: string | null;
  status: string | null;
  terminal: number | null;
  pending: number;
  delivered: number;
  dead: number;
  oldest: string | null;
  next_due: number | null;
  confirming: number;
  unconfirmed: number;
};

/** The ledger's own object: its state, its events' span (its hints' while it has no event), its outbox's
 *  counts and its hints' (one query). */
function objectRow(sql: SqlStorage, name: string): ObjectRow | null {
  const { provider, kind, ref } = objectNameParts(name);
  const row = sql
    .exec<ObjectQueryRow>(
      `SELECT coalesce(s.first, h.first) AS first, coalesce(s.last, h.last) AS last, s.merchant_order_ref,
              st.status, st.terminal, c.pending, c.delivered, c.dead, c.oldest, (${NEXT_DUE}) AS next_due,
              h.confirming, h.unconfirmed
         FROM (SELECT min(received_at) AS first, max(received_at) AS last,
                      (SELECT json_extract(data, '$.merchant_order_ref') FROM events
                        WHERE kind = ?1 AND json_valid(data) AND json_type(data, '$.merchant_order_ref') = 'text'
                        ORDER BY seq DESC LIMIT 1) AS merchant_order_ref
                 FROM events) s
         JOIN (SELECT (SELECT min(received_at) FROM hints) AS first, (SELECT max(received_at) FROM hints) AS last,
                      coalesce(sum(state = 'confirming'), 0) AS confirming,
                      coalesce(sum(state = 'unconfirmed'), 0) AS unconfirmed
                 FROM confirmations) h ON 1
         LEFT JOIN (SELECT status, terminal FROM object_state WHERE kind = ?1 AND object_ref = ?2) st ON 1
         JOIN (SELECT coalesce(sum(o.state = 'pending'), 0) AS pending,
                      coalesce(sum(o.state = 'delivered'), 0) AS delivered,
                      coalesce(sum(o.state = 'dead'), 0) AS dead,
                      min(CASE WHEN o.state = 'pending' THEN e.received_at END) AS oldest
                 FROM (SELECT seq, delivery AS state FROM (${DELIVERY_PER_EVENT})) o JOIN events e ON e.seq = o.seq) c
           ON 1`,
      kind,
      ref,
    )
    .one();
  if (row.first === null || row.last === null) return null;
  return {
    object: name,
    provider,
    kind,
    object_ref: ref,
    merchant_order_ref: row.merchant_order_ref,
    status: row.status,
    finished: row.terminal ?? 0,
    first_seen_at: Date.parse(row.first),
    last_seen_at: Date.parse(row.last),
    pending: row.pending,
    delivered: row.delivered,
    dead: row.dead,
    oldest_pending_at: row.oldest === null ? null : Date.parse(row.oldest),
    // Work due already is run now (the run that sends this re-arms the alarm for it).
    next_due_at: row.next_due === null ? null : Math.max(row.next_due, clock.now()),
    confirming: row.confirming,
    unconfirmed: row.unconfirmed,
  };
}
