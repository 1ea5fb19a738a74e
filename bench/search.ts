// The read model under a realistic size: 100,000 events over 20,000 objects seeded into the local
// D1 before the gateway starts, then `GET /admin/events?q=<merchant_order_ref>` timed one request
// at a time (as an operator searches), against the same gateway's cheapest route (a 404) as the
// baseline measured in the same run. The target is p95 <= 50 ms.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { round } from "./load";
import { serve, WRANGLER } from "./serve";

const PER_OBJECT = 5;
const ROWS_PER_INSERT = 200; // D1 refuses statements over 100 KB
const TOKEN = "bench-admin-token";

export interface SearchResult {
  readonly events: number;
  readonly requests: number;
  readonly search_p50_ms: number;
  readonly search_p95_ms: number;
  readonly baseline_p95_ms: number;
  readonly p95_ratio: number;
  readonly seed_seconds: number;
}

function seedSql(events: number): string {
  const objects = Math.ceil(events / PER_OBJECT);
  const lines: string[] = [];
  const start = Date.now() - 7 * 24 * 3600 * 1000;
  let rows: string[] = [];
  const flush = () => {
    if (rows.length === 0) return;
    lines.push(
      `INSERT INTO events (event_id, object, provider, kind, object_ref, ledger_ref, merchant_order_ref, type, status, outcome, source, received_at, seq, delivery, attempts, delivered_at, version) VALUES ${rows.join(",")};`,
    );
    rows = [];
  };
  for (let o = 0; o < objects; o++) {
    const ref = `seed_${o}`;
    lines.push(
      `INSERT INTO objects (object, provider, kind, object_ref, merchant_order_ref, status, finished, first_seen_at, last_seen_at, delivered, version) VALUES ('portone:payment:${ref}', 'portone', 'payment', '${ref}', 'order_${o}', 'Success', 1, ${start}, ${start}, ${PER_OBJECT}, 1);`,
    );
    for (let e = 0; e < PER_OBJECT && o * PER_OBJECT + e < events; e++) {
      const at = start + (o * PER_OBJECT + e) * 6000;
      rows.push(
        `('evt_seed_${o}_${e}', 'portone:payment:${ref}', 'portone', 'payment', '${ref}', '${ref}', 'order_${o}', 'portone.payment.success', 'Success', 'accepted', 'webhook', ${at}, ${e + 1}, 'delivered', 1, ${at + 120}, 1)`,
      );
      if (rows.length >= ROWS_PER_INSERT) flush();
    }
  }
  flush();
  return lines.join("\n");
}

async function timed(url: string): Promise<number> {
  const started = performance.now();
  const response = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } });
  await response.arrayBuffer();
  return performance.now() - started;
}

const p = (sorted: number[], q: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;

export async function benchSearch(
  root: string,
  port: number,
  vars: Record<string, string>,
  events: number,
  requests: number,
): Promise<SearchResult> {
  const config = join(root, "wrangler.toml");
  let seedSeconds = 0;
  const served = await serve("search", config, port, { ...vars, ADMIN_TOKEN: TOKEN }, (persist) => {
    const file = join(persist, "seed.sql");
    writeFileSync(file, seedSql(events));
    const started = Date.now();
    execFileSync(
      process.execPath,
      [
        WRANGLER,
        "d1",
        "execute",
        "READ_MODEL",
        "--local",
        "-c",
        config,
        "--persist-to",
        persist,
        "--file",
        file,
        "--yes",
      ],
      { stdio: "ignore", env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" } },
    );
    seedSeconds = (Date.now() - started) / 1000;
  });
  try {
    const objects = Math.ceil(events / PER_OBJECT);
    for (let i = 0; i < 20; i++) await timed(`${served.url}/admin/events?q=order_${i}`); // warm up
    const search: number[] = [];
    const baseline: number[] = [];
    for (let i = 0; i < requests; i++) {
      const o = Math.floor(Math.random() * objects);
      search.push(await timed(`${served.url}/admin/events?q=order_${o}`));
      baseline.push(await timed(`${served.url}/no-such-route`));
    }
    search.sort((a, b) => a - b);
    baseline.sort((a, b) => a - b);
    return {
      events,
      requests,
      search_p50_ms: round(p(search, 0.5), 1),
      search_p95_ms: round(p(search, 0.95), 1),
      baseline_p95_ms: round(p(baseline, 0.95), 1),
      p95_ratio: round(p(search, 0.95) / p(baseline, 0.95), 2),
      seed_seconds: round(seedSeconds, 1),
    };
  } finally {
    await served.stop();
  }
}
