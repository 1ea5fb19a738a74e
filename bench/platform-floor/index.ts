// The platform floor: exactly the platform operations the gateway performs per request, with none
// of its logic. A new event: one KV read (a miss), one Durable Object RPC that runs the same seven
// SQLite statements as the ledger's record() in a transaction and sets an alarm, one KV write
// after it; the alarm then does the delivery's SQL, watchdog alarm and one POST to the origin.
// A redelivery: one KV read (a hit). The ratio gateway / floor isolates our own code.
import { DurableObject } from "cloudflare:workers";

interface FloorEnv {
  ORIGIN_URL: string;
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
    sql.exec("SELECT 1 FROM outbox WHERE state = 'pending' LIMIT 1").toArray(); // the next-wake query's place
    await this.ctx.storage.deleteAlarm();
  }
}

export default {
  async fetch(request, env, ctx) {
    const body = await request.text();
    const payload = JSON.parse(body) as Record<string, string>;
    const ref = payload.link_ref ?? payload.order_ref ?? "x";
    const id = `${ref}:${payload.status}:${String(payload.collected_count ?? "")}`;
    if ((await env.SEEN.get(`seen:${id}`)) !== null) return Response.json({ result: "duplicate" });
    const result = await env.FLOOR.get(env.FLOOR.idFromName(ref)).record(ref, id, body);
    ctx.waitUntil(env.SEEN.put(`seen:${id}`, ref, { expirationTtl: 604800 }));
    return Response.json({ result });
  },
} satisfies ExportedHandler<FloorEnv>;
