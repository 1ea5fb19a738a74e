// The read model's rows as a ledger sends them, and the statements that apply a snapshot to D1.
// Idempotent: every upsert is guarded by the snapshot's version, so a snapshot applied twice, or
// after a newer one, changes nothing. Assumes: D1 runs a batch as one transaction (all or nothing).

export interface ObjectRow {
  readonly object: string;
  readonly provider: string;
  readonly kind: string;
  readonly object_ref: string;
  readonly merchant_order_ref: string | null;
  readonly status: string | null;
  readonly finished: number;
  readonly first_seen_at: number;
  readonly last_seen_at: number;
  readonly pending: number;
  readonly delivered: number;
  readonly dead: number;
  readonly oldest_pending_at: number | null;
  /** When the object's next delivery work is due (epoch ms; null: none pending). */
  readonly next_due_at: number | null;
  /** Its hints still being confirmed with a provider's API, and those given up as unconfirmed. */
  readonly confirming: number;
  readonly unconfirmed: number;
}

export interface EventRow {
  readonly event_id: string;
  readonly provider: string;
  readonly kind: string;
  readonly object_ref: string;
  readonly merchant_order_ref: string | null;
  readonly type: string;
  readonly status: string;
  readonly outcome: string;
  readonly source: string;
  readonly received_at: number;
  readonly seq: number;
  readonly delivery: string | null;
  readonly attempts: number;
  readonly last_error: string | null;
  readonly delivered_at: number | null;
  readonly delivery_updated_at: number | null;
  /** The destinations it still waits for, comma-wrapped (",erp,default,"), or null. */
  readonly pending_to: string | null;
  /** The same for the destinations it was delivered to, and those that dead-lettered it. */
  readonly delivered_to: string | null;
  readonly dead_to: string | null;
}

export interface Snapshot {
  /** Monotonic per ledger: a row is only replaced by a snapshot at least as new. */
  readonly version: number;
  readonly object: ObjectRow;
  /** The events that changed since the ledger's last applied snapshot. */
  readonly events: readonly EventRow[];
}

const OBJECT_COLUMNS = [
  "object",
  "provider",
  "kind",
  "object_ref",
  "merchant_order_ref",
  "status",
  "finished",
  "first_seen_at",
  "last_seen_at",
  "pending",
  "delivered",
  "dead",
  "oldest_pending_at",
  "next_due_at",
  "confirming",
  "unconfirmed",
] as const;

const EVENT_COLUMNS = [
  "event_id",
  "provider",
  "kind",
  "object_ref",
  "merchant_order_ref",
  "type",
  "status",
  "outcome",
  "source",
  "received_at",
  "seq",
  "delivery",
  "attempts",
  "last_error",
  "delivered_at",
  "delivery_updated_at",
  "pending_to",
  "delivered_to",
  "dead_to",
] as const;

/** An upsert that writes only a row that is not older and differs: a snapshot sent again (after a
 *  ledger restarts from its checkpoint) costs rows read, not rows written. */
function upsert(table: string, key: string, columns: readonly string[], extra: readonly string[]): string {
  const all = [...columns, ...extra];
  const updates = all.filter((c) => c !== key).map((c) => `${c} = excluded.${c}`);
  const differs = all
    .filter((c) => c !== key && c !== "version")
    .map((c) => `${table}.${c} IS NOT excluded.${c}`)
    .join(" OR ");
  return `INSERT INTO ${table} (${all.join(", ")}) VALUES (${all.map(() => "?").join(", ")})
    ON CONFLICT (${key}) DO UPDATE SET ${updates.join(", ")}
    WHERE excluded.version >= ${table}.version AND (${differs})`;
}

const OBJECT_UPSERT = upsert("objects", "object", OBJECT_COLUMNS, ["version"]);
const EVENT_UPSERT = upsert("events", "event_id", EVENT_COLUMNS, ["object", "ledger_ref", "version"]);

/** The statements that apply one ledger's snapshot: its object's row, then its changed events. */
export function snapshotStatements(db: D1Database, snapshot: Snapshot): D1PreparedStatement[] {
  const { object, version } = snapshot;
  return [
    db.prepare(OBJECT_UPSERT).bind(...OBJECT_COLUMNS.map((c) => object[c]), version),
    ...snapshot.events.map((e) =>
      db.prepare(EVENT_UPSERT).bind(...EVENT_COLUMNS.map((c) => e[c]), object.object, object.object_ref, version),
    ),
  ];
}
