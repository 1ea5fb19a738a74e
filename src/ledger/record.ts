// Recording one genuine event in the ledger's SQLite storage, inside the caller's transaction:
// dedupe by event id, decide accepted or stale against the object's lifecycle, keep the event as
// history either way, and queue an accepted event for delivery in the same transaction.

import type { StatusPosition } from "../providers/types";
import { advance, decide, type ObjectState } from "./decide";
import type { Outbox } from "./outbox";

export interface RecordInput {
  readonly provider: string;
  readonly kind: string;
  readonly objectRef: string;
  readonly eventId: string;
  readonly status: string;
  readonly position: StatusPosition;
  /** The verified payload, re-serialized JSON. */
  readonly payload: string;
  /** ISO 8601 time the gateway received the event. */
  readonly receivedAt: string;
}

export type RecordResult = "accepted" | "duplicate" | "stale";

export interface RecordOutcome {
  readonly result: RecordResult;
  readonly eventId: string;
  /** Position of the event in this ledger's history (1-based, arrival order). */
  readonly seq: number;
  readonly status: string;
  /** The object's status before this event; null for its first. */
  readonly previousStatus: string | null;
}

type StateRow = { status: string; rank: number | null; terminal: number };
type EventRow = { seq: number; status: string; previous_status: string | null };

/** Must run inside a transaction. `now` is the clock in ms, for the outbox. */
export function recordEvent(sql: SqlStorage, outbox: Outbox, input: RecordInput, now: number): RecordOutcome {
  const known = sql
    .exec<EventRow>("SELECT seq, status, previous_status FROM events WHERE event_id = ?", input.eventId)
    .toArray()[0];
  if (known) {
    return {
      result: "duplicate",
      eventId: input.eventId,
      seq: known.seq,
      status: known.status,
      previousStatus: known.previous_status,
    };
  }
  const state = readState(sql, input.kind, input.objectRef);
  const result = decide(state, input.position);
  const previousStatus = state?.status ?? null;
  const seq = sql
    .exec<{ seq: number }>(
      `INSERT INTO events (event_id, provider, kind, object_ref, status, outcome, previous_status, received_at, payload)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq`,
      input.eventId,
      input.provider,
      input.kind,
      input.objectRef,
      input.status,
      result,
      previousStatus,
      input.receivedAt,
      input.payload,
    )
    .one().seq;
  if (result === "accepted") {
    writeState(sql, input, advance(state, input.status, input.position));
    outbox.enqueue(seq, input.eventId, now);
  }
  return { result, eventId: input.eventId, seq, status: input.status, previousStatus };
}

function readState(sql: SqlStorage, kind: string, objectRef: string): ObjectState | null {
  const row = sql
    .exec<StateRow>(
      "SELECT status, rank, terminal FROM object_state WHERE kind = ? AND object_ref = ?",
      kind,
      objectRef,
    )
    .toArray()[0];
  return row ? { status: row.status, rank: row.rank, terminal: row.terminal === 1 } : null;
}

function writeState(sql: SqlStorage, input: RecordInput, next: ObjectState): void {
  sql.exec(
    `INSERT INTO object_state (kind, object_ref, provider, status, rank, terminal, last_event_id, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (kind, object_ref) DO UPDATE SET
       status = excluded.status, rank = excluded.rank, terminal = excluded.terminal,
       last_event_id = excluded.last_event_id, updated_at = excluded.updated_at`,
    input.kind,
    input.objectRef,
    input.provider,
    input.status,
    next.rank,
    next.terminal ? 1 : 0,
    input.eventId,
    input.receivedAt,
  );
}
