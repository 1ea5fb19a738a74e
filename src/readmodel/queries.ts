// Reads of the read model for the operator API and console. Newest first, with a keyset cursor
// (received_at, event_id) so a page never shifts under new events. One D1 query per call.

import { err, ok, type Result } from "../lib/result";
import { whereOf, type EventFilter } from "./filters";

export interface EventItem {
  readonly event_id: string;
  readonly type: string;
  readonly provider: string;
  readonly kind: string;
  readonly object_ref: string;
  readonly object: string;
  readonly merchant_order_ref: string | null;
  readonly status: string;
  readonly outcome: string;
  readonly source: string;
  readonly received_at: string;
  readonly delivery: string | null;
  readonly attempts: number;
  readonly last_error: string | null;
  readonly delivered_at: string | null;
}

type EventDbRow = Omit<EventItem, "received_at" | "delivered_at"> & {
  received_at: number;
  delivered_at: number | null;
};

export interface Page {
  readonly events: EventItem[];
  readonly next_cursor: string | null;
}

export const MAX_PAGE = 200;
const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

function encodeCursor(receivedAt: number, eventId: string): string {
  return btoa(JSON.stringify([receivedAt, eventId])).replace(/=+$/, "");
}

export function decodeCursor(cursor: string): Result<readonly [number, string], string> {
  try {
    const value: unknown = JSON.parse(atob(cursor));
    if (Array.isArray(value) && typeof value[0] === "number" && typeof value[1] === "string")
      return ok([value[0], value[1]] as const);
  } catch {
    // fall through: not a cursor this API gave
  }
  return err("cursor is not one this API returned");
}

export async function listEvents(
  db: D1Database,
  filter: EventFilter,
  limit: number,
  after: readonly [number, string] | null,
): Promise<Page> {
  const where = whereOf(filter);
  const page = after === null ? "" : " AND (received_at, event_id) < (?, ?)";
  const args = after === null ? where.args : [...where.args, after[0], after[1]];
  const { results } = await db
    .prepare(
      `SELECT event_id, type, provider, kind, object_ref, object, merchant_order_ref, status, outcome, source,
              received_at, delivery, attempts, last_error, delivered_at
         FROM events WHERE ${where.sql}${page} ORDER BY received_at DESC, event_id DESC LIMIT ?`,
    )
    .bind(...args, limit + 1)
    .all<EventDbRow>();
  const rows = results.slice(0, limit);
  const last = rows[rows.length - 1];
  return {
    events: rows.map((r) => ({ ...r, received_at: iso(r.received_at) ?? "", delivered_at: iso(r.delivered_at) })),
    next_cursor: results.length > limit && last ? encodeCursor(last.received_at, last.event_id) : null,
  };
}

export interface Stats {
  readonly accepted: number;
  readonly stale: number;
  readonly delivered: number;
  readonly pending: number;
  readonly dead: number;
  /** The oldest event still waiting, whenever it arrived. */
  readonly oldest_pending_at: string | null;
}

export async function statsSince(db: D1Database, since: number): Promise<Stats> {
  const row = await db
    .prepare(
      `SELECT coalesce(sum(outcome = 'accepted'), 0) AS accepted, coalesce(sum(outcome = 'stale'), 0) AS stale,
              coalesce(sum(delivery = 'delivered'), 0) AS delivered, coalesce(sum(delivery = 'pending'), 0) AS pending,
              coalesce(sum(delivery = 'dead'), 0) AS dead,
              (SELECT min(received_at) FROM events WHERE delivery = 'pending') AS oldest
         FROM events WHERE received_at >= ?`,
    )
    .bind(since)
    .first<Omit<Stats, "oldest_pending_at"> & { oldest: number | null }>();
  const { oldest = null, ...counts } = row ?? { accepted: 0, stale: 0, delivered: 0, pending: 0, dead: 0 };
  return { ...counts, oldest_pending_at: iso(oldest) };
}

/** Accepted events matching a filter, grouped by ledger in each ledger's order, for redelivery. */
export async function forRedelivery(db: D1Database, filter: EventFilter, max: number): Promise<Map<string, string[]>> {
  const where = whereOf(filter);
  const { results } = await db
    .prepare(
      `SELECT object, event_id FROM events WHERE outcome = 'accepted' AND ${where.sql}
        ORDER BY object, seq LIMIT ?`,
    )
    .bind(...where.args, max)
    .all<{ object: string; event_id: string }>();
  const byObject = new Map<string, string[]>();
  for (const r of results) byObject.set(r.object, [...(byObject.get(r.object) ?? []), r.event_id]);
  return byObject;
}

/** Per destination, how many events still wait for it (as of the read model), in one query. */
export async function pendingByDestination(db: D1Database, names: readonly string[]): Promise<Map<string, number>> {
  const { results } = await db
    .prepare(
      `SELECT n.value AS name,
              (SELECT count(*) FROM events WHERE pending_to IS NOT NULL AND instr(pending_to, ',' || n.value || ',') > 0)
                AS pending
         FROM json_each(?) n`,
    )
    .bind(JSON.stringify(names))
    .all<{ name: string; pending: number }>();
  return new Map(results.map((r) => [r.name, r.pending]));
}
