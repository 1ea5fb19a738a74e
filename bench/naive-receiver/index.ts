// The naive receiver (see wrangler.toml): a PortOne Payment Link webhook verified as PortOne signs it
// (the signed fields, sorted, URL-encoded, HMAC-SHA256 with the secret's text, base64), a KV
// seen-marker checked first and written after a new event, one Durable Object per link_ref that stores
// event + state + outbox in one transaction and sets an alarm, and the alarm POSTing each pending event.
// With LOG_LINES=on it also writes the lines the gateway writes at LOG_LEVEL=info (one JSON line per
// accepted event, per forward, per duplicate): the benchmark's `naive_receiver_logged`, which shows
// what those lines cost under wrangler dev, apart from everything else.
import { DurableObject } from "cloudflare:workers";

interface NaiveEnv {
  ORIGIN_URL: string;
  SECRET: string;
  LOG_LINES?: string;
  SEEN: KVNamespace;
  OBJECT: DurableObjectNamespace<NaiveObject>;
}

const SIGNED = ["amount", "country_code", "currency", "link_ref", "merchant_order_ref", "status"] as const;
let key: Promise<CryptoKey> | null = null;

function hmacKey(secret: string): Promise<CryptoKey> {
  key ??= crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "verify",
  ]);
  return key;
}

function logLine(env: NaiveEnv, msg: string, fields: Record<string, string | number>): void {
  if (env.LOG_LINES === "on") console.log(JSON.stringify({ level: "info", msg, ...fields }));
}

async function verified(body: Record<string, unknown>, secret: string): Promise<boolean> {
  const value = (k: string): string => String((k === "country_code" ? body.countryCode : body[k]) ?? "");
  const message = new URLSearchParams(SIGNED.map((k) => [k, value(k)])).toString();
  const signature = typeof body.signature_hash === "string" ? body.signature_hash : "";
  let bytes: Uint8Array;
  try {
    bytes = Uint8Array.from(atob(signature), (c) => c.charCodeAt(0));
  } catch {
    return false;
  }
  return crypto.subtle.verify("HMAC", await hmacKey(secret), bytes, new TextEncoder().encode(message));
}

export class NaiveObject extends DurableObject<NaiveEnv> {
  constructor(ctx: DurableObjectState, env: NaiveEnv) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => {
      const sql = ctx.storage.sql;
      sql.exec("CREATE TABLE IF NOT EXISTS events (id TEXT PRIMARY KEY, status TEXT, body TEXT)");
      sql.exec("CREATE TABLE IF NOT EXISTS state (ref TEXT PRIMARY KEY, status TEXT)");
      sql.exec("CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT, done INTEGER)");
    });
  }

  async record(ref: string, id: string, status: string, body: string): Promise<string> {
    const sql = this.ctx.storage.sql;
    const result = this.ctx.storage.transactionSync(() => {
      if (sql.exec("SELECT 1 FROM events WHERE id = ?", id).toArray().length > 0) return "duplicate";
      sql.exec("INSERT INTO events (id, status, body) VALUES (?, ?, ?)", id, status, body);
      sql.exec("INSERT OR REPLACE INTO state (ref, status) VALUES (?, ?)", ref, status);
      sql.exec("INSERT INTO outbox (id, done) VALUES (?, 0)", id);
      return "accepted";
    });
    if (result === "accepted") await this.ctx.storage.setAlarm(Date.now());
    return result;
  }

  override async alarm(): Promise<void> {
    const sql = this.ctx.storage.sql;
    for (;;) {
      const next = sql
        .exec<{ seq: number; body: string }>(
          "SELECT o.seq, e.body FROM outbox o JOIN events e ON e.id = o.id WHERE o.done = 0 ORDER BY o.seq LIMIT 1",
        )
        .toArray()[0];
      if (!next) return;
      const response = await fetch(this.env.ORIGIN_URL, {
        method: "POST",
        body: next.body,
        headers: { "content-type": "application/json" },
      });
      await response.body?.cancel();
      if (!response.ok) throw new Error(`origin answered ${response.status}`); // the runtime retries
      sql.exec("UPDATE outbox SET done = 1 WHERE seq = ?", next.seq);
      logLine(this.env, "forwarded", { seq: next.seq, http_status: response.status });
    }
  }
}

export default {
  async fetch(request, env): Promise<Response> {
    const text = await request.text();
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return Response.json({ error: "invalid_json" }, { status: 400 });
    }
    if (!(await verified(body, env.SECRET))) return Response.json({ error: "bad_signature" }, { status: 401 });
    const ref = String(body.link_ref);
    const status = String(body.status);
    const id = String(body.signature_hash); // the HMAC of the signed fields: one per distinct event
    if ((await env.SEEN.get(`seen:${id}`)) !== null) {
      logLine(env, "webhook duplicate", { object_ref: ref, event_id: id, result: "duplicate" });
      return Response.json({ result: "duplicate" });
    }
    const stub = env.OBJECT.get(env.OBJECT.idFromName(ref));
    const result = await stub.record(ref, id, status, JSON.stringify({ object_ref: ref, status, data: body }));
    logLine(env, `webhook ${result}`, { object_ref: ref, event_id: id, result });
    if (result === "accepted") await env.SEEN.put(`seen:${id}`, "1", { expirationTtl: 7 * 24 * 3600 });
    return Response.json({ result });
  },
} satisfies ExportedHandler<NaiveEnv>;
