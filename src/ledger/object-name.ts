// An object's name as the object itself remembers it (the name is joined and split in providers/names.ts).
// The name is not readable from inside the object (ctx.id.name is absent for idFromName ids in some
// runtimes), so what records something remembers it: an event on its own row (events.ledger, which
// costs no row of its own), a refund hint in `meta`.

import { meta } from "./meta";

/** This object's name, as what it recorded remembers it (null before anything was recorded). */
export function storedObjectName(sql: SqlStorage): string | null {
  return (
    meta.get(sql, "name") ??
    sql.exec<{ ledger: string }>("SELECT ledger FROM events WHERE ledger IS NOT NULL ORDER BY seq LIMIT 1").toArray()[0]
      ?.ledger ??
    null
  );
}

/** Must run inside the recording transaction; later calls change nothing. */
export function rememberObjectName(sql: SqlStorage, name: string): void {
  meta.setOnce(sql, "name", name);
}
