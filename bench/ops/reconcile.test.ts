// The cost of a reconciliation pass per 1,000 silent objects: Durable Object requests (the pass's
// RPCs, and the alarms they cause), calls to PortOne's API, SQLite rows written in the objects, D1
// rows written (counted by triggers) and D1 queries. 1,000 unfinished payments silent past the
// threshold; PortOne's API (a stand-in with the documented shapes) says 900 are still Pending and 100
// are Success, so 100 statuses are found and forwarded. Runs inside workerd; prints one JSON line.
import { applyD1Migrations, env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { expect, it } from "vitest";
import { runPass } from "../../src/reconcile/pass";
import { loadConfig } from "../../src/config";
import { ledgerFor } from "../../src/ledger/client";
import { paymentSample } from "../../fixtures/portone-samples";
import { PAYMENT } from "../../src/providers/portone/kinds";
import { withSignature } from "../../src/providers/portone/sign";
import worker from "../../src/index";
import { installStandIns, testClock } from "../../test/stand-ins";
import { fakePortOne, installFakePortOne, paymentContent } from "../../test/portone-stand-in";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";

const OBJECTS = 1000;
const FOUND = 100;

const rowsWritten = (ref: string) =>
  runInDurableObject(
    ledgerFor(env, "portone", "payment", ref),
    (_i, state) => state.storage.sql.exec<{ n: number }>("SELECT total_changes() AS n").one().n,
  );

async function d1Writes(): Promise<number> {
  const row = await env.READ_MODEL.prepare("SELECT n FROM bench_pass_writes").first<{ n: number }>();
  return row?.n ?? 0;
}

it("counts what a reconciliation pass over 1,000 silent objects costs", { timeout: 600_000 }, async () => {
  installStandIns();
  installFakePortOne();
  await applyD1Migrations(env.READ_MODEL, env.TEST_MIGRATIONS);
  const db = env.READ_MODEL;
  await db.exec("CREATE TABLE IF NOT EXISTS bench_pass_writes (n INTEGER NOT NULL)");
  await db.exec("INSERT INTO bench_pass_writes VALUES (0)");
  const writes: Array<[string, string]> = [
    ["objects", "UPDATE"],
    ["objects", "INSERT"],
    ["events", "UPDATE"],
    ["events", "INSERT"],
    ["reconcile_passes", "INSERT"],
  ];
  for (const [table, op] of writes)
    await db.exec(
      `CREATE TRIGGER IF NOT EXISTS bench_pass_${table}_${op.toLowerCase()} AFTER ${op} ON ${table} BEGIN UPDATE bench_pass_writes SET n = n + 1; END`,
    );
  const refs = Array.from({ length: OBJECTS }, (_, i) => `pass_${Date.now().toString(36)}_${i}`);
  for (const ref of refs) {
    const body = JSON.stringify(
      await withSignature({ ...paymentSample, order_ref: ref, status: "Pending" }, PAYMENT, "PORTONE_SECRET"),
    );
    const ctx = createExecutionContext();
    const response = await worker.fetch(
      new Request("https://gateway.bench/webhooks/portone/payment", { method: "POST", body }),
      env,
      ctx,
    );
    expect(response.status).toBe(200);
    await waitOnExecutionContext(ctx);
    await runDurableObjectAlarm(ledgerFor(env, "portone", "payment", ref));
  }
  refs.forEach((ref, i) => fakePortOne.payments.set(ref, paymentContent(ref, i < FOUND ? "Success" : "Pending", 500)));
  testClock.advance(31 * 60_000);

  const counts = { do_rpc_requests: 0 };
  const ledger = new Proxy(env.LEDGER, {
    get(target, prop) {
      const value = Reflect.get(target, prop) as unknown;
      if (prop !== "get" || typeof value !== "function")
        return typeof value === "function" ? value.bind(target) : value;
      return (id: DurableObjectId) => {
        counts.do_rpc_requests += 1;
        return target.get(id);
      };
    },
  });
  const passEnv = {
    ...env,
    LEDGER: ledger,
    RECONCILE_MAX_OBJECTS: String(OBJECTS),
    RECONCILE_MAX_API_CALLS: String(2 * OBJECTS),
  } as Env;
  const before = await Promise.all(refs.map(rowsWritten));
  const d1Before = await d1Writes();
  const calls = fakePortOne.calls.length;
  const started = Date.now();
  const result = await runPass(passEnv, loadConfig(passEnv), "admin");
  // The alarms run together, as they do in production: one after another, each would wait for the read
  // model writer's next batch, and objects idle for seconds are evicted (their SQLite change counter
  // with them).
  const ran = await Promise.all(refs.map((ref) => runDurableObjectAlarm(ledgerFor(env, "portone", "payment", ref))));
  const alarms = ran.filter(Boolean).length;
  const after = await Promise.all(refs.map(rowsWritten));
  const forwarded = await db
    .prepare("SELECT count(*) AS n FROM events WHERE source = 'reconciliation' AND delivery = 'delivered'")
    .first<{ n: number }>();
  const summary = {
    objects: OBJECTS,
    checked: result.checked,
    changed: result.changed,
    forwarded: forwarded?.n ?? 0,
    do_requests: counts.do_rpc_requests + alarms,
    do_rpc_requests: counts.do_rpc_requests,
    do_alarm_invocations: alarms,
    api_calls: fakePortOne.calls.length - calls,
    sqlite_rows_written: after.reduce((sum, n, i) => sum + n - (before[i] ?? 0), 0),
    d1_rows_written: (await d1Writes()) - d1Before,
    pass_wall_ms_in_workerd: Date.now() - started,
  };
  expect(result).toEqual({ checked: OBJECTS, changed: FOUND });

  // Retention: the 100 finished objects, 91 days on, are purged to a tombstone by the next pass.
  const finished = refs.slice(0, FOUND);
  const size = (ref: string) =>
    runInDurableObject(ledgerFor(env, "portone", "payment", ref), (_i, state) => {
      const sql = state.storage.sql;
      const one = (q: string) => sql.exec<{ n: number }>(q).one().n;
      return {
        bytes: sql.databaseSize,
        events: one("SELECT count(*) AS n FROM events"),
        history_rows: one(
          "SELECT (SELECT count(*) FROM outbox) + (SELECT count(*) FROM delivery_attempts) + (SELECT count(*) FROM refund_hints) AS n",
        ),
        payload_bytes: one("SELECT coalesce(sum(length(data) + coalesce(length(unverified), 0)), 0) AS n FROM events"),
      };
    });
  const kept = await Promise.all(finished.map(size));
  testClock.advance(91 * 24 * 3600_000);
  await runPass(passEnv, loadConfig(passEnv), "cron");
  const purged = await Promise.all(finished.map(size));
  const mean = (xs: number[]) => Math.round(xs.reduce((a, b) => a + b, 0) / xs.length);
  const pass = await db
    .prepare("SELECT purged FROM reconcile_passes WHERE trigger = 'cron' ORDER BY id DESC LIMIT 1")
    .first<{ purged: number }>();
  const retention = {
    objects: finished.length,
    purged: pass?.purged ?? 0,
    events_before: mean(kept.map((k) => k.events)),
    events_after: mean(purged.map((k) => k.events)),
    history_rows_before: mean(kept.map((k) => k.history_rows)),
    history_rows_after: mean(purged.map((k) => k.history_rows)),
    payload_bytes_before: mean(kept.map((k) => k.payload_bytes)),
    payload_bytes_after: mean(purged.map((k) => k.payload_bytes)),
    database_bytes_before: mean(kept.map((k) => k.bytes)),
    database_bytes_after: mean(purged.map((k) => k.bytes)),
  };
  console.log(`BENCH_RECONCILE ${JSON.stringify({ ...summary, retention })}`);
});
