// Recording one genuine event in the ledger's SQLite storage, in one write of its store:
// dedupe by identity (the event id of a new event), decide accepted or stale against the object's lifecycle, keep the event as
// history either way, and queue an accepted event for delivery in the same transaction.

import { typeOf } from "../providers/names";
import type { EventRef, StatusPosition } from "../providers/types";
import { advance, decide, type ObjectState } from "./decide";
import type { Outbox } from "./outbox";
import type { LedgerStore } from "./store";

/** An event as its ledger records it (from a webhook or PortOne's API); its eventId (derived only from
 *  what is proven, providers/event-id.ts) is the identity deduplicated by. */
export interface RecordInput extends EventRef {
  readonly position: StatusPosition;
  /** What is proven (the signed fields, or the API's answer), JSON. */
  readonly data: string;
  /** The rest of the body, covered by no signature (JSON), or null. */
  readonly unverified: string | null;
  readonly source: EventSource;
  /** SHA-256 of the body as received, or null when there is no body (an API answer). */
  readonly contentHash: string | null;
  /** ISO 8601 time the gateway received the event. */
  readonly receivedAt: string;
  /** The reference whose lifecycle the event moves, when it is not objectRef: a subscription charge's
   *  own order_ref (its data.order_ref), on its subscription's object. */
  readonly lifecycleRef?: string;
  /** The destinations the event goes to, when not those its type routes to (a destination's test
   *  event goes to that destination only). */
  readonly destinations?: readonly string[];
  /** The WEBHOOK_SOURCES name it arrived on (the envelope's source_name); absent for PortOne's. */
  readonly sourceName?: string;
  /** The provider's request as received, JSON {"headers", "body": base64}: kept only when a destination
   *  that takes the event asks for it (`original`). Absent for what an API answered. */
  readonly original?: string;
}

/** Where the gateway learned an event: a webhook (a refund hint's confirmation included), PortOne's
 *  reconciliation, or an API-confirmed scheme's API. */
export type EventSource = "webhook" | "reconciliation" | "api";

export type RecordResult = "accepted" | "duplicate" | "stale";

/** Nothing was stored: the object's storage failed. The edge answers 5xx, so the provider retries. */
export interface NotStored {
  readonly result: "not_stored";
  readonly error: string;
}

export interface RecordOutcome {
  readonly result: RecordResult;
  readonly eventId: string;
  /** Position of the event in this ledger's history (1-based, arrival order). */
  readonly seq: number;
  readonly status: string;
  /** The object's status before this event; null for its first. */
  readonly previousStatus: string | null;
  /** For a duplicate whose body differs from the one recorded: the recorded body's hash. */
  readonly conflictsWith?: string;
}

type StateRow = { status: string; rank: number | null; terminal: number };
type EventRow = {
  seq: number;
  event_id: string;
  status: string;
  previous_status: string | null;
  content_hash: string | null;
};

/** Records the event in one write of the store, with what `andThen` writes of its outcome. `objectName`:
 *  this Durable Object's name (provider:kind:ref), kept on the event row so that naming the object costs
 *  no row of its own (object-name.ts). When the store knows the object holds no event (this instance created its schema and
 *  nothing was written since), there is nothing to be a duplicate of and no state: nothing is read. */
export function recordEvent(
  store: LedgerStore,
  outbox: Outbox,
  input: RecordInput,
  objectName: string | null,
  andThen?: (recorded: RecordOutcome) => void,
): RecordOutcome {
  return store.write((sql, empty) => {
    const recorded = insert(sql, empty, outbox, input, objectName);
    andThen?.(recorded);
    return recorded;
  });
}

/** The event's row, inside the store's write: a duplicate answered, else decided and inserted with the
 *  destinations it goes to (none when stale). */
function insert(
  sql: SqlStorage,
  empty: boolean,
  outbox: Outbox,
  input: RecordInput,
  objectName: string | null,
): RecordOutcome {
  const seen = empty ? undefined : seenBefore(sql, input);
  if (seen) return seen;
  const state = empty ? null : stateBefore(sql, input);
  const result = decide(state, input.position);
  const previousStatus = state?.status ?? null;
  // An accepted event carries the state it leaves (object_state is a view of the latest one): the
  // object's state costs no row of its own.
  const next = result === "accepted" ? advance(state, input.status, input.position) : null;
  const routing =
    next === null
      ? null
      : input.destinations !== undefined
        ? { destinations: input.destinations, filtered: [], original: false }
        : outbox.routingOf({ ...input, type: typeOf(input) });
  const destinations = routing === null ? null : JSON.stringify(routing.destinations);
  const filtered = routing === null || routing.filtered.length === 0 ? null : JSON.stringify(routing.filtered);
  // The provider's request is kept only for an event a destination with "original": true takes.
  const original = routing?.original === true ? (input.original ?? null) : null;
  const seq = sql
    .exec<{ seq: number }>(
      `INSERT INTO events (event_id, identity, provider, kind, object_ref, status, outcome, previous_status,
                           received_at, data, unverified, source, content_hash, state_rank, state_terminal,
                           destinations, ledger, source_name, type, filtered, original)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq`,
      input.eventId,
      input.eventId,
      input.provider,
      input.kind,
      input.objectRef,
      input.status,
      result,
      previousStatus,
      input.receivedAt,
      input.data,
      input.unverified,
      input.source,
      input.contentHash,
      next?.rank ?? null,
      next === null ? null : next.terminal ? 1 : 0,
      destinations,
      objectName,
      input.sourceName ?? null,
      input.type ?? null,
      filtered,
      original,
    )
    .one().seq;
  return { result, eventId: input.eventId, seq, status: input.status, previousStatus };
}

/** The event already recorded under the input's identity, or, for a webhook, the same status
 *  reconciliation recorded first: answered as a duplicate. */
function seenBefore(sql: SqlStorage, input: RecordInput): RecordOutcome | undefined {
  const known = sql
    .exec<EventRow>(
      "SELECT seq, event_id, status, previous_status, content_hash FROM events WHERE identity = ?",
      input.eventId,
    )
    .toArray()[0];
  if (known) {
    const conflict =
      known.content_hash !== null && input.contentHash !== null && known.content_hash !== input.contentHash;
    return {
      result: "duplicate",
      eventId: known.event_id,
      seq: known.seq,
      status: known.status,
      previousStatus: known.previous_status,
      ...(conflict ? { conflictsWith: known.content_hash as string } : {}),
    };
  }
  // A webhook bringing a status that reconciliation already recorded (learned from PortOne's API
  // first) is that event again: answered duplicate, never forwarded twice.
  const reconciled =
    input.source === "webhook"
      ? sql
          .exec<EventRow>(
            `SELECT seq, event_id, status, previous_status, content_hash FROM events
              WHERE kind = ? AND object_ref = ? AND lower(status) = lower(?) AND source = 'reconciliation' LIMIT 1`,
            input.kind,
            input.objectRef,
            input.status,
          )
          .toArray()[0]
      : undefined;
  if (reconciled) {
    return {
      result: "duplicate",
      eventId: reconciled.event_id,
      seq: reconciled.seq,
      status: reconciled.status,
      previousStatus: reconciled.previous_status,
    };
  }
  return undefined;
}

/** The state the event would move on from: its object's, or the lifecycle's it names. */
function stateBefore(sql: SqlStorage, input: RecordInput): ObjectState | null {
  return input.lifecycleRef === undefined
    ? readState(sql, input.kind, input.objectRef)
    : readLifecycleState(sql, input.kind, input.objectRef, input.lifecycleRef);
}

/** The state an accepted event of this kind on this object left for one reference in its data (its
 *  latest), as object_state gives it for the object's own. */
function readLifecycleState(sql: SqlStorage, kind: string, objectRef: string, ref: string): ObjectState | null {
  const row = sql
    .exec<{ status: string; rank: number | null; terminal: number | null }>(
      `SELECT status, state_rank AS rank, state_terminal AS terminal FROM events
        WHERE kind = ? AND object_ref = ? AND outcome = 'accepted' AND json_valid(data)
          AND json_extract(data, '$.order_ref') = ?
        ORDER BY seq DESC LIMIT 1`,
      kind,
      objectRef,
      ref,
    )
    .toArray()[0];
  return row ? { status: row.status, rank: row.rank, terminal: row.terminal === 1 } : null;
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
