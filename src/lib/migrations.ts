// Numbered, append-only SQLite migrations for a Durable Object's storage, applied before its first
// query (inside blockConcurrencyWhile). A migration, once released, is never edited: a change is a new
// entry. Each runs in its own transaction with its version row, so a crash leaves no half-applied step;
// one that needs code (a hash) computes first, reading only, then writes in its transaction. A schema
// may give its whole latest form (`fresh`): a new object then gets it in one script instead of a replay
// of every step (the ledger's: every new payment is a new object; its test compares the two).

export interface Migration {
  readonly version: number;
  readonly statements: readonly string[];
  /** Reads what the migration needs and returns the writes to make in its transaction. */
  readonly compute?: (sql: SqlStorage) => Promise<(sql: SqlStorage) => void>;
}

export interface Schema {
  readonly migrations: readonly Migration[];
  /** The statements that build the latest version at once, for a new object (optional). */
  readonly fresh?: readonly string[];
}

/** Tables a new object has before its first migration: SQLite's and the runtime's own. */
const BUILT_IN = "name LIKE 'sqlite_%' OR name LIKE '\\_cf\\_%' ESCAPE '\\'";

const MIGRATIONS_TABLE = "schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)";

export function latestVersion(schema: Schema): number {
  return schema.migrations[schema.migrations.length - 1]?.version ?? 0;
}

/** Brings the object's schema up to date: "fresh" when it was new (nothing in it yet), "migrated"
 *  when it had one (kept, with any migration it lacked applied). `appliedAt`: the time, ISO 8601. */
export async function migrate(
  storage: DurableObjectStorage,
  schema: Schema,
  appliedAt: string,
): Promise<"fresh" | "migrated"> {
  const sql = storage.sql;
  // A new object has no table of its own: one probe. Each SQLite call of a new object is compiled
  // anew (its statement cache is new), so they count.
  if (!isEmpty(sql)) {
    sql.exec(`CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE}`);
    const applied = sql.exec<{ v: number | null }>("SELECT max(version) AS v FROM schema_migrations").one().v ?? 0;
    if (applied !== 0 || !isEmpty(sql, "schema_migrations")) {
      await replay(storage, schema, applied, appliedAt);
      return "migrated";
    }
  }
  if (schema.fresh === undefined) {
    sql.exec(`CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE}`);
    await replay(storage, schema, 0, appliedAt);
  } else {
    const script = [`CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE}`, ...schema.fresh].join(";\n");
    storage.transactionSync(() =>
      sql.exec(
        `${script};\nINSERT INTO schema_migrations (version, applied_at) VALUES (${latestVersion(schema)}, '${appliedAt}')`,
      ),
    );
  }
  return "fresh";
}

/** Whether the object has no table, index or view beyond the built-in ones and the one named `besides`. */
function isEmpty(sql: SqlStorage, besides = ""): boolean {
  return (
    sql.exec(`SELECT 1 FROM sqlite_master WHERE name <> ? AND NOT (${BUILT_IN}) LIMIT 1`, besides).toArray().length ===
    0
  );
}

/** Applies, in order, each migration after `applied`, each in its own transaction with its version row. */
export async function replay(
  storage: DurableObjectStorage,
  schema: Schema,
  applied: number,
  appliedAt: string,
): Promise<void> {
  const sql = storage.sql;
  for (const migration of schema.migrations) {
    if (migration.version <= applied) continue;
    const write = migration.compute ? await migration.compute(sql) : null;
    storage.transactionSync(() => {
      for (const statement of migration.statements) sql.exec(statement);
      write?.(sql);
      sql.exec("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)", migration.version, appliedAt);
    });
  }
}
