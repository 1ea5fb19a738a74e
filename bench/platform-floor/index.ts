// The platform floor: exactly the platform operations the gateway performs per request, with none
// of its logic. A new event: one KV read (a miss), one Durable Object RPC that runs the same seven
// SQLite statements as the ledger's record() in a transaction and sets an alarm, one KV write
// after it; the alarm then does the delivery's SQL, watchdog alarm and one POST to the origin, and
// ends as the gateway's does: one D1 batch writing an event row and an object row to the read model,
// and the cursor row in its own storage.
// A redelivery: one KV read (a hit). The ratio gateway / floor isolates our own code.
import { DurableObject } from "cloudflare:workers";

interface FloorEnv {
  ORIGIN_URL: string;
  READ_MODEL: D1Database;
  SEEN: KVNamespace;
  FLOOR: DurableObjectNamespace<Floor>;
}

export class Floor extends DurableObject<FloorEnv> {
  constructor(ctx: DurableObjectState, env: FloorEnv) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => {
      const sql = ctx.storage.sql;
      sql.exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)");
      sql.exec("CREATE TABLE IF NOT EXISTS state (ref TEXT PRIMARY KEY, status TEXT)");
      sql.exec(
        "CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE, payload TEXT)",
      );
      sql.exec("CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY, state TEXT)");
      sql.exec("CREATE TABLE IF NOT EXISTS attempts (id INTEGER PRIMARY KEY AUTOINCREMENT, seq INTEGER, outcome TEXT)");
    });
  }

  async record(ref: string, id: string, payload: string): Promise<string> {
    const sql = this.ctx.storage.sql;
    const idle = sql.exec("SELECT 1 FROM outbox WHERE state = 'pending' LIMIT 1").toArray().length === 0;
    const result = this.ctx.storage.transactionSync(() => {
      sql.exec("INSERT OR IGNORE INTO meta (key, value) VALUES ('name', ?)", ref);
      if (sql.exec("SELECT seq FROM events WHERE id = ?", id).toArray().length > 0) return "duplicate";
      sql.exec("SELECT status FROM state WHERE ref = ?", ref).toArray();
      const seq = sql
        .exec<{ seq: number }>("INSERT INTO events (id, payload) VALUES (?, ?) RETURNING seq", id, payload)
        .one().seq;
      sql.exec(
        "INSERT INTO state (ref, status) VALUES (?, 'x') ON CONFLICT (ref) DO UPDATE SET status = excluded.status",
        ref,
      );
      sql.exec("INSERT INTO outbox (seq, state) VALUES (?, 'pending')", seq);
      return "accepted";
    });
    if (idle) await this.ctx.storage.setAlarm(Date.now());
    return result;
  }

  /** The delivery's platform operations: the same SQL statements, the watchdog alarm, one POST to
   *  the origin per pending event, and the final alarm update; no logic beyond that. */
  override async alarm(): Promise<void> {
    const sql = this.ctx.storage.sql;
    sql.exec("UPDATE attempts SET outcome = 'interrupted' WHERE outcome = 'in_flight'");
    sql.exec("SELECT seq FROM events WHERE seq < 0").toArray(); // the refunds-due query's place
    for (;;) {
      const head = sql
        .exec<{ seq: number; payload: string }>(
          "SELECT o.seq, e.payload FROM outbox o JOIN events e ON e.seq = o.seq WHERE o.state = 'pending' ORDER BY o.seq LIMIT 1",
        )
        .toArray()[0];
      if (!head) break;
      sql.exec("UPDATE outbox SET state = 'pending' WHERE seq = ?", head.seq);
      const id = sql
        .exec<{ id: number }>("INSERT INTO attempts (seq, outcome) VALUES (?, 'in_flight') RETURNING id", head.seq)
        .one().id;
      await this.ctx.storage.setAlarm(Date.now() + 15_000);
      const response = await fetch(this.env.ORIGIN_URL, {
        method: "POST",
        body: head.payload,
        headers: { "content-type": "application/json" },
      });
      await response.body?.cancel();
      sql.exec("UPDATE attempts SET outcome = 'delivered' WHERE id = ?", id);
      sql.exec("UPDATE outbox SET state = 'delivered' WHERE seq = ?", head.seq);
    }
    await this.#readModel();
    sql.exec("SELECT 1 FROM outbox WHERE state = 'pending' LIMIT 1").toArray(); // the next-wake query's place
    await this.ctx.storage.deleteAlarm();
  }

  /** The read model's platform operations: one batch of two upserts, then the cursor row. */
  async #readModel(): Promise<void> {
    const sql = this.ctx.storage.sql;
    const last = sql
      .exec<{ seq: number; id: string }>("SELECT seq, id FROM events ORDER BY seq DESC LIMIT 1")
      .toArray()[0];
    if (!last) return;
    const ref = sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'name'").one().value;
    const now = Date.now();
    await this.env.READ_MODEL.batch([
      this.env.READ_MODEL.prepare(
        `INSERT INTO objects (object, provider, kind, object_ref, first_seen_at, last_seen_at, version)
         VALUES (?, 'floor', 'floor', ?, ?, ?, ?) ON CONFLICT (object) DO UPDATE SET last_seen_at = excluded.last_seen_at,
         version = excluded.version WHERE excluded.version >= objects.version`,
      ).bind(ref, ref, now, now, last.seq),
      this.env.READ_MODEL.prepare(
        `INSERT INTO events (event_id, object, provider, kind, object_ref, ledger_ref, type, status, outcome, source,
                             received_at, seq, delivery, attempts, version)
         VALUES (?, ?, 'floor', 'floor', ?, ?, 'floor', 'x', 'accepted', 'webhook', ?, ?, 'delivered', 1, ?)
         ON CONFLICT (event_id) DO UPDATE SET delivery = excluded.delivery, version = excluded.version
         WHERE excluded.version >= events.version`,
      ).bind(last.id, ref, ref, ref, now, last.seq, last.seq),
    ]);
    sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('cursor', ?)", String(last.seq));
  }
}

export default {
  async fetch(request, env, ctx) {
    const body = await request.text();
    const payload = JSON.parse(body) as Record<string, string>;
    const ref = payload.link_ref ?? payload.order_ref ?? "x";
    const id = `${ref}:${payload.status}:${String(payload.amount ?? "")}`;
    if ((await env.SEEN.get(`seen:${id}`)) !== null) return Response.json({ result: "duplicate" });
    const result = await env.FLOOR.get(env.FLOOR.idFromName(ref)).record(ref, id, body);
    ctx.waitUntil(env.SEEN.put(`seen:${id}`, ref, { expirationTtl: 604800 }));
    return Response.json({ result });
  },
} satisfies ExportedHandler<FloorEnv>;
