// Facts about the Durable Object itself, in its `meta` table. Its name (provider:kind:ref) is not
// readable from inside the object (ctx.id.name is absent for idFromName ids in some runtimes), so
// the first call that records something remembers it, for logs and the dead-letter index.

export function objectName(sql: SqlStorage): string {
  return sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'name'").toArray()[0]?.value ?? "";
}

/** Must run inside the recording transaction; later calls change nothing. */
export function rememberObjectName(sql: SqlStorage, name: string): void {
  sql.exec("INSERT OR IGNORE INTO meta (key, value) VALUES ('name', ?)", name);
}
