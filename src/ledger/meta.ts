// The Durable Object's own facts, in its `meta` table, through one typed accessor: each key has one
// name, one type and one encoding here, and no other file writes SQL against the table.

/** Each key and what it holds. */
export interface MetaValues {
  /** The object's name, for an object no event row names yet (object-name.ts). */
  name: string;
  /** The last check with PortOne's API (check-with-portone.ts), as the operator report shows it. */
  reconciled: { readonly at: string; readonly changed: number; readonly failure: string | null };
  /** When a subscription's charges are next to be read (epoch ms). */
  charges_due_at: number;
  /** The read model's checkpoint: the events and outbox changes D1 has taken (read-model.ts). */
  read_model_cursor: { readonly seq: number; readonly changed: number; readonly hints?: string };
  /** When retention purged the history (ISO 8601). */
  purged_at: string;
  /** When PortOne's API last said it does not know this payment, asked about its refunds (epoch ms). */
  payment_unknown_at: number;
}

type Key = keyof MetaValues;

interface Codec<T> {
  encode(value: T): string;
  decode(text: string): T;
}

const text: Codec<string> = { encode: (v) => v, decode: (t) => t };
const json = <T>(): Codec<T> => ({ encode: (v) => JSON.stringify(v), decode: (t) => JSON.parse(t) as T });

const CODECS: { readonly [K in Key]: Codec<MetaValues[K]> } = {
  name: text,
  reconciled: json(),
  charges_due_at: { encode: (v) => String(v), decode: (t) => Number(t) },
  read_model_cursor: json(),
  purged_at: text,
  payment_unknown_at: { encode: (v) => String(v), decode: (t) => Number(t) },
};

export const meta = {
  get<K extends Key>(sql: SqlStorage, key: K): MetaValues[K] | null {
    const raw = sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = ?", key).toArray()[0]?.value;
    return raw === undefined ? null : CODECS[key].decode(raw);
  },
  set<K extends Key>(sql: SqlStorage, key: K, value: MetaValues[K]): void {
    sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", key, CODECS[key].encode(value));
  },
  /** Writes the key only if it is not set yet. */
  setOnce<K extends Key>(sql: SqlStorage, key: K, value: MetaValues[K]): void {
    sql.exec("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)", key, CODECS[key].encode(value));
  },
  delete(sql: SqlStorage, key: Key): void {
    sql.exec("DELETE FROM meta WHERE key = ?", key);
  },
};
