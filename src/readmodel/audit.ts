// The operators' audit log, in D1 beside the read model (migration 0007): who did what, when, to what,
// and with what result, newest first. Written by admin/audit.ts after each operator action; no token,
// session cookie or secret value is ever part of an entry.

export interface AuditEntry {
  readonly at: number;
  /** `token` (the admin token's holder), the Cloudflare Access e-mail, or `anonymous` (a failed login). */
  readonly actor: string;
  readonly action: string;
  readonly target: string | null;
  /** `ok`, or the refusal's error code. */
  readonly result: string;
  readonly details: Record<string, unknown> | null;
}

export interface AuditView extends Omit<AuditEntry, "at"> {
  readonly id: string;
  readonly at: string;
}

/** Adds an entry; with `dedupe`, a second entry of the same key adds 1 to the first's details.count. */
export async function recordAudit(db: D1Database, entry: AuditEntry, dedupe: string | null = null): Promise<void> {
  await db
    .prepare(
      `INSERT INTO audit_log (at, actor, action, target, result, details, dedupe) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (dedupe) DO UPDATE SET at = excluded.at,
         details = json_set(coalesce(details, '{}'), '$.count', coalesce(json_extract(details, '$.count'), 1) + 1)`,
    )
    .bind(
      entry.at,
      entry.actor,
      entry.action,
      entry.target,
      entry.result,
      entry.details === null ? null : JSON.stringify(entry.details),
      dedupe,
    )
    .run();
}

type Row = {
  id: number;
  at: number;
  actor: string;
  action: string;
  target: string | null;
  result: string;
  details: string | null;
};

/** Entries since `since` (epoch ms), newest first, `limit` at most, after the cursor (an entry's id). */
export async function listAudit(
  db: D1Database,
  since: number,
  limit: number,
  before: number | null,
): Promise<{ entries: AuditView[]; next_cursor: string | null }> {
  const { results } = await db
    .prepare(
      `SELECT id, at, actor, action, target, result, details FROM audit_log
        WHERE at >= ? AND (? IS NULL OR id < ?) ORDER BY id DESC LIMIT ?`,
    )
    .bind(since, before, before, limit + 1)
    .all<Row>();
  const page = results.slice(0, limit);
  const entries = page.map((r) => ({
    id: String(r.id),
    at: new Date(r.at).toISOString(),
    actor: r.actor,
    action: r.action,
    target: r.target,
    result: r.result,
    details: r.details === null ? null : (JSON.parse(r.details) as Record<string, unknown>),
  }));
  return { entries, next_cursor: results.length > limit ? String(page.at(-1)?.id) : null };
}

/** Forgets entries older than the retention period (RETENTION_DAYS, as the rest of the history). */
export async function purgeAudit(db: D1Database, before: number): Promise<number> {
  return (await db.prepare("DELETE FROM audit_log WHERE at < ?").bind(before).run()).meta.changes;
}
