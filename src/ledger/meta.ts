// Facts about the Durable Object itself, in its `meta` table. Its name (provider:kind:ref) is not
// readable from inside the object (ctx.id.name is absent for idFromName ids in some runtimes), so
// what records something remembers it, for logs and the read model: a refund hint in `meta`, an
// event on its own row (events.ledger), which costs no row written of its own.

export function objectName(sql: SqlStorage): string {
  return (
    sql
      .exec<{ value: string }>(
        `SELECT value FROM meta WHERE key = 'name'
         UNION ALL SELECT value FROM (SELECT ledger AS value FROM events WHERE ledger IS NOT NULL ORDER BY seq LIMIT 1)`,
      )
      .toArray()[0]?.value ?? ""
  );
}

/** Must run inside the recording transaction; later calls change nothing. */
export function rememberObjectName(sql: SqlStorage, name: string): void {
  sql.exec("INSERT OR IGNORE INTO meta (key, value) VALUES ('name', ?)", name);
}

/** The parts of a ledger name (provider:kind:ref; the ref may itself hold colons), as ledgerName()
 *  (ledger.ts) joins them. */
export function ledgerParts(name: string): { provider: string; kind: string; ref: string } {
  const [provider = "", kind = "", ...rest] = name.split(":");
  return { provider, kind, ref: rest.join(":") };
}
