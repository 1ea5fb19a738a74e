// The platform floor: exactly the platform operations the gateway performs per request, with none
// of its logic. A new event: one KV read (a miss), one Durable Object RPC that runs the ledger's
// record() statements in a transaction (one row written) and sets an alarm, one KV write after it;
// the alarm then upserts the outbox row before the request, asks a second Durable Object (the
// destination's gate) to make the one POST to the origin, updates the row, and ends as the
// gateway's does: one D1 batch writing an event row and an object row to the read model.
// A redelivery: one KV read (a hit). The ratio gateway / floor isolates our own code.
import { DurableObject } from "cloudflare:workers";

interface FloorEnv {
  ORIGIN_URL: string;
  READ_MODEL: D1Database;
  SEEN: KVNamespace;
  FLOOR: DurableObjectNamespace<Floor>;
  FLOOR_GATE: DurableObjectNamespace<FloorGate>;
}

/** The destination's gate: one RPC per forward, the POST made from it. */
export class FloorGate extends DurableObject<FloorEnv> {
  async forward(body: string): Promise<number> {
    const response = await fetch(this.env.ORIGIN_URL, {
      method: "POST",
      body,
      headers: { "content-type": "application/json" },
    });
    await response.body?.cancel();
    return response.status;
  }
}

export class Floor extends DurableObject<FloorEnv> {
  constructor(ctx: DurableObjectState, env: FloorEnv) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => {
      const sql = ctx.storage.sql;
      sql.exec(
        "CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE, ledger TEXT, payload TEXT)",
      );
      sql.exec("CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY, state TEXT, started_at INTEGER)");
    });
  }

  #pending(): { seq: number; payload: string } | undefined {
    return this.ctx.storage.sql
      .exec<{ seq: number; payload: string }>(
        `SELECT e.seq, e.payload FROM events e LEFT JOIN outbox o ON o.seq = e.seq
          WHERE o.state IS NULL OR o.state = 'pending' ORDER BY e.seq LIMIT 1`,
      )
      .toArray()[0];
  }

  async record(ref: string, id: string, payload: string): Promise<string> {
    const sql = this.ctx.storage.sql;
    const idle = this.#pending() === undefined;
    const result = this.ctx.storage.transactionSync(() => {
      if (sql.exec("SELECT seq FROM events WHERE id = ?", id).toArray().length > 0) return "duplicate";
      sql.exec("SELECT seq FROM events ORDER BY seq DESC LIMIT 1").toArray(); // the state query's place
      sql.exec("INSERT INTO events (id, ledger, payload) VALUES (?, ?, ?)", id, ref, payload);
      return "accepted";
    });
    if (idle) await this.ctx.storage.setAlarm(Date.now());
    return result;
  }

  /** The delivery's platform operations: the same SQL writes, one gate RPC (the POST) per pending
   *  event; no logic beyond that. */
  override async alarm(): Promise<void> {
    const sql = this.ctx.storage.sql;
    for (let head = this.#pending(); head !== undefined; head = this.#pending()) {
      sql.exec(
        "INSERT INTO outbox (seq, state, started_at) VALUES (?, 'pending', ?) ON CONFLICT (seq) DO UPDATE SET started_at = excluded.started_at",
        head.seq,
        Date.now(),
      );
      await this.env.FLOOR_GATE.get(this.env.FLOOR_GATE.idFromName("default")).forward(head.payload);
      sql.exec("UPDATE outbox SET state = 'delivered' WHERE seq = ?", head.seq);
    }
    await this.#readModel();
    await this.ctx.storage.getAlarm(); // the next-wake read's place
  }

  /** The read model's platform operations: one batch of two upserts. */
  async #readModel(): Promise<void> {
    const sql = this.ctx.storage.sql;
    const last = sql
      .exec<{ seq: number; id: string; ledger: string }>("SELECT seq, id, ledger FROM events ORDER BY seq DESC LIMIT 1")
      .toArray()[0];
    if (!last) return;
    const ref = last.ledger;
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
