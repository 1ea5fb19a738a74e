// Counts, not guesses, the billable operations per event: Worker requests, Durable Object RPC
// requests and alarm invocations, KV reads and writes, and SQLite rows written (SQLite's own
// total_changes()), D1 rows written (counted by triggers in the read model) and D1 queries (the batches
// of the read model's writer), for a new event on a new
// object, a new event on a known object, one that goes to two destinations, a redelivery answered
// from KV, and a redelivery that misses KV. Runs inside workerd; prints one JSON line.
import {
  applyD1Migrations,
  createExecutionContext,
  env,
  runDurableObjectAlarm,
  runInDurableObject,
  waitOnExecutionContext,
} from "cloudflare:test";
import { expect, it } from "vitest";
import worker from "../../src/index";
import { ledgerFor } from "../../src/ledger/client";
import { loadConfig } from "../../src/config";
import { readModelWriter } from "../../src/readmodel/writer";
import { PAYMENT_LINK } from "../../src/providers/portone/kinds";
import { withSignature } from "../../src/providers/portone/sign";
import { paymentLinkSample } from "../../fixtures/portone-samples";
import { installStandIns } from "../../test/stand-ins";

type Counts = Record<string, number>;
const OBJECTS = 20;

function counting(counts: Counts): Env {
  const kv = new Proxy(env.SEEN, {
    get(target, prop) {
      const value = Reflect.get(target, prop) as unknown;
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        counts[`kv_${String(prop)}`] = (counts[`kv_${String(prop)}`] ?? 0) + 1;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  const ledger = new Proxy(env.LEDGER, {
    get(target, prop) {
      const value = Reflect.get(target, prop) as unknown;
      if (prop !== "get" || typeof value !== "function")
        return typeof value === "function" ? value.bind(target) : value;
      return (id: DurableObjectId) => {
        const stub = target.get(id);
        return new Proxy(stub, {
          get(s, method) {
            const fn = Reflect.get(s, method) as unknown;
            if (typeof fn !== "function" || method === "fetch") return fn;
            return (...args: unknown[]) => {
              counts.do_rpc_requests = (counts.do_rpc_requests ?? 0) + 1;
              return Reflect.apply(fn as (...a: unknown[]) => unknown, s, args);
            };
          },
        });
      };
    },
  });
  return { ...env, SEEN: kv, LEDGER: ledger } as Env;
}

/** Triggers that count the rows the read model writes (an upsert that changes nothing fires none). */
async function countD1Writes(): Promise<void> {
  const db = env.READ_MODEL;
  await db.exec("CREATE TABLE IF NOT EXISTS bench_d1_writes (tbl TEXT PRIMARY KEY, n INTEGER NOT NULL)");
  await db.exec("INSERT OR IGNORE INTO bench_d1_writes VALUES ('events', 0), ('objects', 0)");
  for (const table of ["events", "objects"]) {
    for (const op of ["INSERT", "UPDATE"]) {
      await db.exec(
        `CREATE TRIGGER IF NOT EXISTS bench_${table}_${op.toLowerCase()} AFTER ${op} ON ${table} BEGIN UPDATE bench_d1_writes SET n = n + 1 WHERE tbl = '${table}'; END`,
      );
    }
  }
}

async function d1Writes(): Promise<{ events: number; objects: number }> {
  const { results } = await env.READ_MODEL.prepare("SELECT tbl, n FROM bench_d1_writes").all<{
    tbl: string;
    n: number;
  }>();
  const of = (t: string) => results.find((r) => r.tbl === t)?.n ?? 0;
  return { events: of("events"), objects: of("objects") };
}

async function rowsWritten(ref: string): Promise<number> {
  return runInDurableObject(
    ledgerFor(env, "portone", "payment_link", ref),
    (_i, state) => state.storage.sql.exec<{ n: number }>("SELECT total_changes() AS n").one().n,
  );
}

/** Snapshots and batches over every writer of the read model. */
async function writerStats(): Promise<{ snapshots: number; batches: number }> {
  const writers = loadConfig(env).readModelWriters;
  const all = await Promise.all(Array.from({ length: writers }, (_, i) => readModelWriter(env, i).stats()));
  return all.reduce((sum, s) => ({ snapshots: sum.snapshots + s.snapshots, batches: sum.batches + s.batches }), {
    snapshots: 0,
    batches: 0,
  });
}

async function phase(
  name: string,
  bodies: Array<{ ref: string; body: string }>,
  result: Record<string, Counts>,
): Promise<void> {
  const counts: Counts = { worker_requests: 0, do_alarm_invocations: 0, sqlite_rows_written: 0 };
  const before = await Promise.all(bodies.map((b) => rowsWritten(b.ref)));
  const d1Before = await d1Writes();
  const writerBefore = await writerStats();
  const countingEnv = counting(counts);
  for (const { body } of bodies) {
    const ctx = createExecutionContext();
    counts.worker_requests = (counts.worker_requests ?? 0) + 1;
    const response = await worker.fetch(
      new Request("https://gateway.bench/webhooks/portone/payment-link", { method: "POST", body }),
      countingEnv,
      ctx,
    );
    expect(response.status).toBe(200);
    await waitOnExecutionContext(ctx);
  }
  // The objects' alarms run together, as they do under load: their snapshots share the writer's batches.
  const ran = await Promise.all(
    bodies.map(({ ref }) => runDurableObjectAlarm(ledgerFor(env, "portone", "payment_link", ref))),
  );
  counts.do_alarm_invocations = ran.filter(Boolean).length;
  const after = await Promise.all(bodies.map((b) => rowsWritten(b.ref)));
  // runInDurableObject itself is test plumbing, not an operation the gateway performs.
  counts.sqlite_rows_written = after.reduce((sum, n, i) => sum + n - (before[i] ?? 0), 0);
  const d1After = await d1Writes();
  counts.d1_rows_written = d1After.events - d1Before.events + d1After.objects - d1Before.objects;
  // Each snapshot is one RPC request to the read model's writer, and D1 takes them in its batches.
  const writerAfter = await writerStats();
  counts.do_rpc_requests = (counts.do_rpc_requests ?? 0) + writerAfter.snapshots - writerBefore.snapshots;
  counts.d1_queries = writerAfter.batches - writerBefore.batches;
  result[name] = Object.fromEntries(
    Object.entries(counts).map(([k, v]) => [k, Math.round((v / bodies.length) * 100) / 100]),
  );
}

it("counts the billable operations per event", async () => {
  installStandIns();
  await applyD1Migrations(env.READ_MODEL, env.TEST_MIGRATIONS);
  await countD1Writes();
  const run = `ops_${Date.now().toString(36)}`;
  const make = (status: string) =>
    Promise.all(
      Array.from({ length: OBJECTS }, async (_, i) => {
        const ref = `${run}_${i}`;
        return {
          ref,
          body: JSON.stringify(
            await withSignature({ ...paymentLinkSample, link_ref: ref, status }, PAYMENT_LINK, "PORTONE_SECRET"),
          ),
        };
      }),
    );
  const created = await make("Created");
  const processing = await make("Processing");
  const success = await make("Success");
  const result: Record<string, Counts> = {};
  // Warm each object once so the new-object phase is not charged with test plumbing; its
  // migrations run on that first touch and are reported separately.
  const migrationRows = await rowsWritten(created[0]?.ref ?? "");
  await phase("new_event_new_object", created, result);
  await phase("new_event_known_object", processing, result);
  await phase("new_event_two_destinations", success, result);
  // The first redelivery misses KV (a new event writes no marker), the ledger answers duplicate and
  // the marker is written; the next ones are answered from KV without waking the object.
  await phase("first_redelivery", processing, result);
  await phase("redelivery_kv_hit", processing, result);
  for (const key of (await env.SEEN.list({ prefix: "seen:" })).keys) await env.SEEN.delete(key.name);
  await phase("redelivery_kv_miss", processing, result);
  console.log(
    `BENCH_OPS ${JSON.stringify({ objects: OBJECTS, migration_rows_per_new_object: migrationRows, per_event: result })}`,
  );
  // One request to the event's ledger, one from its run to the read model's writer.
  expect(result.new_event_known_object?.do_rpc_requests).toBe(2);
  // The KV hint where it pays: no KV write for a new event; none and no object woken for a KV hit.
  expect(result.new_event_known_object?.kv_put ?? 0).toBe(0);
  expect(result.redelivery_kv_hit?.do_rpc_requests ?? 0).toBe(0);
  // Cheaper bookkeeping: at most 5 SQLite rows per delivered event and destination.
  expect(result.new_event_new_object?.sqlite_rows_written).toBeLessThanOrEqual(5);
  expect(result.new_event_known_object?.sqlite_rows_written).toBeLessThanOrEqual(5);
  expect(result.new_event_two_destinations?.sqlite_rows_written).toBeLessThanOrEqual(10);
  // The read model's targets: at most 2 D1 rows per new delivered event, and the snapshots of objects
  // whose runs end together share D1 queries.
  expect(result.new_event_known_object?.d1_rows_written).toBeLessThanOrEqual(2);
  expect(result.new_event_known_object?.d1_queries).toBeLessThan(0.5);
});
