// The platform floor: exactly the platform operations the gateway performs per request, with none
// of its logic. A new event: one KV read (a miss), one Durable Object RPC that runs the same seven
// SQLite statements as the ledger's record() in a transaction and sets an alarm, one KV write
// after it. A redelivery: one KV read (a hit). The ratio gateway / floor isolates our own code.
import { DurableObject } from "cloudflare:workers";

interface FloorEnv {
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
      sql.exec("CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE, payload TEXT)");
      sql.exec("CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY, state TEXT)");
    });
  }

  async record(ref: string, id: string, payload: string): Promise<string> {
    const sql = this.ctx.storage.sql;
    const idle = sql.exec("SELECT 1 FROM outbox WHERE state = 'pending' LIMIT 1").toArray().length === 0;
    const result = this.ctx.storage.transactionSync(() => {
      sql.exec("INSERT OR IGNORE INTO meta (key, value) VALUES ('name', ?)", ref);
      if (sql.exec("SELECT seq FROM events WHERE id = ?", id).toArray().length > 0) return "duplicate";
      sql.exec("SELECT status FROM state WHERE ref = ?", ref).toArray();
      const seq = sql.exec<{ seq: number }>("INSERT INTO events (id, payload) VALUES (?, ?) RETURNING seq", id, payload).one().seq;
      sql.exec("INSERT INTO state (ref, status) VALUES (?, 'x') ON CONFLICT (ref) DO UPDATE SET status = excluded.status", ref);
      sql.exec("INSERT INTO outbox (seq, state) VALUES (?, 'done')", seq);
      return "accepted";
    });
    if (idle) await this.ctx.storage.setAlarm(Date.now());
    return result;
  }

  override async alarm(): Promise<void> {}
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
