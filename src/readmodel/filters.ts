// The operator's filters over events, parsed from a query string or a JSON body, the same way for
// the list, the stats and bulk redelivery. Bad input is a named error (a 400), never a guess.

import { err, ok, type Result } from "../lib/result";

export type Delivery = "pending" | "delivered" | "dead";

export interface EventFilter {
  /** An object ref (the event's or its ledger's), a merchant_order_ref or an event id, exactly. */
  readonly q?: string;
  readonly type?: string;
  /** Matched without regard to case (PortOne's casing varies). */
  readonly status?: string;
  readonly delivery?: Delivery;
  /** Epoch ms, inclusive. */
  readonly since?: number;
  /** Epoch ms, exclusive. */
  readonly until?: number;
}

const DELIVERIES: readonly string[] = ["pending", "delivered", "dead"];
const MAX_TEXT = 512;

/** A time as ISO 8601 or epoch milliseconds. */
export function parseTime(value: string): number | null {
  const text = value.trim();
  const ms = /^\d{1,15}$/.test(text) ? Number(text) : Date.parse(text);
  return Number.isFinite(ms) ? ms : null;
}

export function parseFilter(input: Readonly<Record<string, unknown>>): Result<EventFilter, string> {
  const out: Record<string, string | number> = {};
  for (const name of ["q", "type", "status"] as const) {
    const value = input[name];
    if (value === undefined || value === null || value === "") continue;
    if (typeof value !== "string" || value.length > MAX_TEXT)
      return err(`${name} must be text of at most ${MAX_TEXT} characters`);
    out[name] = value.trim();
  }
  const delivery = input.delivery;
  if (delivery !== undefined && delivery !== null && delivery !== "") {
    if (typeof delivery !== "string" || !DELIVERIES.includes(delivery))
      return err("delivery must be pending, delivered or dead");
    out.delivery = delivery;
  }
  for (const name of ["since", "until"] as const) {
    const value = input[name];
    if (value === undefined || value === null || value === "") continue;
    const ms = typeof value === "number" ? value : typeof value === "string" ? parseTime(value) : null;
    if (ms === null || !Number.isFinite(ms)) return err(`${name} must be an ISO 8601 time or epoch milliseconds`);
    out[name] = ms;
  }
  return ok(out as EventFilter);
}

export function isEmpty(filter: EventFilter): boolean {
  return Object.keys(filter).length === 0;
}

/** Each single-valued filter's SQL condition over the events table. */
const CONDITIONS: ReadonlyArray<readonly [Exclude<keyof EventFilter, "q">, string]> = [
  ["type", "type = ?"],
  ["status", "lower(status) = lower(?)"],
  ["delivery", "delivery = ?"],
  ["since", "received_at >= ?"],
  ["until", "received_at < ?"],
];

/** SQL conditions and their values for a filter, over the events table. */
export function whereOf(filter: EventFilter): { readonly sql: string; readonly args: Array<string | number> } {
  const clauses: string[] = [];
  const args: Array<string | number> = [];
  if (filter.q !== undefined) {
    // An object ref (the event's own or its ledger's), a merchant_order_ref or an event id.
    clauses.push("(event_id = ? OR object_ref = ? OR ledger_ref = ? OR merchant_order_ref = ?)");
    args.push(filter.q, filter.q, filter.q, filter.q);
  }
  for (const [name, condition] of CONDITIONS) {
    const value = filter[name];
    if (value === undefined) continue;
    clauses.push(condition);
    args.push(value);
  }
  return { sql: clauses.length > 0 ? clauses.join(" AND ") : "1 = 1", args };
}
