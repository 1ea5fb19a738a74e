// Upgrading a ledger written by an older release: its SQLite schema stops at version 3 and its
// events were named by a hash of the whole payload. After the upgrade a redelivery of an old event,
// with or without unsigned fields added, must still be a duplicate, and an old pending event must
// be forwarded under its old webhook-id with only its signed fields as data.
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DELIVERIES_VIEW } from "../src/ledger/fresh-schema";
import { MIGRATIONS, latestVersion, migrate, replay } from "../src/ledger/schema";
import { eventIdOf } from "../src/providers/event-id";
import {
  KINDS,
  deliver,
  eventFor,
  ledgerOf,
  portOneEventId,
  resultOf,
  storedObject,
  uniqueRef,
  type Slug,
} from "./helpers";
import { envelope, origin, testClock } from "./stand-ins";

const TABLES = ["events", "object_state", "outbox", "delivery_attempts", "meta", "hints", "confirmations"];

interface OldEvent {
  readonly status: string;
  readonly body: Record<string, unknown>;
  readonly delivered: boolean;
}

/** Rewrites the object's storage as release 3 left it: schema v1-v3 and events named the old way. */
async function plantOldLedger(slug: Slug, ref: string, events: readonly OldEvent[]): Promise<string[]> {
  const kind = KINDS[slug];
  const ids = await Promise.all(events.map((e) => eventIdOf("portone", kind.kind, e.body)));
  await runInDurableObject(ledgerOf(kind, ref), async (_i, state) => {
    const sql = state.storage.sql;
    for (const view of ["object_state", "deliveries"]) sql.exec(`DROP VIEW IF EXISTS ${view}`);
    for (const table of [...TABLES, "schema_migrations"]) sql.exec(`DROP TABLE IF EXISTS ${table}`);
    sql.exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)");
    for (const m of MIGRATIONS.filter((m) => m.version <= 3)) {
      for (const statement of m.statements) sql.exec(statement);
      sql.exec("INSERT INTO schema_migrations VALUES (?, ?)", m.version, "2026-11-01T00:00:00.000Z");
    }
    sql.exec("INSERT INTO meta VALUES ('name', ?)", `portone:${kind.kind}:${ref}`);
    let previous: string | null = null;
    events.forEach((event, i) => {
      const seq = i + 1;
      sql.exec(
        `INSERT INTO events (seq, event_id, provider, kind, object_ref, status, outcome, previous_status, received_at, payload)
         VALUES (?, ?, 'portone', ?, ?, ?, 'accepted', ?, '2026-11-01T00:00:00.000Z', ?)`,
        seq,
        ids[i],
        kind.kind,
        ref,
        event.status,
        previous,
        JSON.stringify(event.body),
      );
      sql.exec(
        "INSERT INTO outbox (seq, event_id, state, cycle_attempts, next_attempt_at, updated_at) VALUES (?, ?, ?, 0, ?, ?)",
        seq,
        ids[i],
        event.delivered ? "delivered" : "pending",
        testClock.now,
        testClock.now,
      );
      previous = event.status;
    });
    const last = events[events.length - 1] as OldEvent;
    sql.exec(
      "INSERT INTO object_state VALUES (?, ?, 'portone', ?, NULL, ?, ?, '2026-11-01T00:00:00.000Z')",
      kind.kind,
      ref,
      last.status,
      last.status === "Success" ? 1 : 0,
      ids[ids.length - 1],
    );
    if (events.some((e) => !e.delivered)) await state.storage.setAlarm(testClock.now);
  });
  await evictDurableObject(ledgerOf(kind, ref));
  return ids;
}

describe("upgrading a ledger from schema v3 with old event ids", () => {
  it("keeps deduplicating old events, with or without unsigned fields added", async () => {
    const ref = uniqueRef("old");
    const pending = await eventFor("payment", ref, "Pending");
    const success = await eventFor("payment", ref, "Success");
    await plantOldLedger("payment", ref, [
      { status: "Pending", body: pending, delivered: true },
      { status: "Success", body: success, delivered: false },
    ]);
    expect(await resultOf(await deliver("payment", pending))).toBe("duplicate");
    expect(await resultOf(await deliver("payment", { ...pending, buyer_email: "attacker@example.com" }))).toBe(
      "duplicate",
    );
    expect(await resultOf(await deliver("payment", success))).toBe("duplicate");
    const versions = await runInDurableObject(ledgerOf(KINDS.payment, ref), (_i, state) =>
      state.storage.sql
        .exec<{ version: number }>("SELECT version FROM schema_migrations ORDER BY version")
        .toArray()
        .map((r) => r.version),
    );
    expect(versions).toEqual(MIGRATIONS.map((m) => m.version));
  });

  it("forwards an old pending event under its old webhook-id, its signed fields as data", async () => {
    const ref = uniqueRef("oldpending");
    const success = await eventFor("payment", ref, "Success");
    const [oldId] = await plantOldLedger("payment", ref, [{ status: "Success", body: success, delivered: false }]);
    expect(oldId).not.toBe(await portOneEventId("payment", success));
    expect(await runDurableObjectAlarm(ledgerOf(KINDS.payment, ref))).toBe(true);
    expect(origin.acknowledged).toHaveLength(1);
    const sent = envelope(origin.acknowledged[0]!);
    expect(sent.id).toBe(oldId);
    expect(origin.acknowledged[0]!.headers["webhook-id"]).toBe(oldId);
    expect(Object.keys(sent.data).sort()).toEqual(KINDS.payment.signed.map((f) => f.key).sort());
    expect(sent.unverified).toHaveProperty("buyer_email");
    expect(sent.unverified).not.toHaveProperty("signature_hash");
    expect(sent.source).toBe("webhook");
  });

  it("keeps the object's state: a finished payment stays finished after the state table became a view", async () => {
    const ref = uniqueRef("oldstate");
    const pending = await eventFor("payment", ref, "Pending");
    const success = await eventFor("payment", ref, "Success");
    await plantOldLedger("payment", ref, [
      { status: "Pending", body: pending, delivered: true },
      { status: "Success", body: success, delivered: true },
    ]);
    expect(await resultOf(await deliver("payment", await eventFor("payment", ref, "Failed")))).toBe("stale");
    const stored = await storedObject(KINDS.payment, ref);
    expect(stored.state).toEqual({ status: "Success", terminal: 1 });
    expect(stored.events.map((e) => [e.status, e.outcome])).toEqual([
      ["Pending", "accepted"],
      ["Success", "accepted"],
      ["Failed", "stale"],
    ]);
  });

  it("two old events with the same signed fields: the first takes the identity, the second keeps its own", async () => {
    const ref = uniqueRef("oldtwins");
    const first = await eventFor("subscription-link", ref, "Active", { collected_count: 1 });
    const second = await eventFor("subscription-link", ref, "Active", { collected_count: 2 });
    const ids = await plantOldLedger("subscription-link", ref, [
      { status: "Active", body: first, delivered: true },
      { status: "Active", body: second, delivered: true },
    ]);
    const identities = await runInDurableObject(ledgerOf(KINDS["subscription-link"], ref), (_i, state) =>
      state.storage.sql
        .exec<{ identity: string }>("SELECT identity FROM events ORDER BY seq")
        .toArray()
        .map((r) => r.identity),
    );
    expect(identities).toEqual([await portOneEventId("subscription-link", first), ids[1]]);
    expect(await resultOf(await deliver("subscription-link", { ...second, collected_count: 3 }))).toBe("duplicate");
  });
});

describe("a new object's schema", () => {
  /** Tables, columns, indexes, CHECK constraints and views, as SQLite describes them. */
  function describeSchema(sql: SqlStorage): Record<string, unknown> {
    const squash = (text: string) => text.replace(/\s+/g, "").replace(/"/g, "").toLowerCase();
    const objects = sql
      .exec<{ type: string; name: string; tbl_name: string; sql: string | null }>(
        "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\' AND name <> 'schema_migrations' ORDER BY type, name",
      )
      .toArray();
    const out: Record<string, unknown> = {};
    for (const o of objects) {
      const text = squash(o.sql ?? "");
      if (o.type === "view") out[`view ${o.name}`] = text;
      else if (o.type === "index")
        out[`index ${o.name}`] = {
          table: o.tbl_name,
          columns: sql
            .exec(`PRAGMA index_info(${o.name})`)
            .toArray()
            .map((c) => c.name),
          unique: /^createunique/.test(text),
        };
      else
        out[`table ${o.name}`] = {
          columns: sql
            .exec(`PRAGMA table_info(${o.name})`)
            .toArray()
            .map((c) => [c.name, c.type, c.notnull, c.dflt_value, c.pk]),
          checks: [...text.matchAll(/check\((.*?\))\)/g)].map((m) => m[1]).sort(),
          withoutRowid: text.endsWith("withoutrowid"),
        };
    }
    return out;
  }

  it("is what replaying every migration builds", async () => {
    const ref = uniqueRef("fresh");
    expect(await resultOf(await deliver("payment", await eventFor("payment", ref, "Pending")))).toBe("accepted");
    await runInDurableObject(ledgerOf(KINDS.payment, ref), async (_i, state) => {
      const sql = state.storage.sql;
      const fresh = describeSchema(sql);
      expect(sql.exec("SELECT version FROM schema_migrations").toArray()).toEqual([{ version: latestVersion() }]);
      for (const view of ["object_state", "deliveries"]) sql.exec(`DROP VIEW ${view}`);
      for (const table of [...TABLES.filter((t) => t !== "object_state"), "schema_migrations"])
        sql.exec(`DROP TABLE ${table}`);
      sql.exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)");
      await replay(state.storage, 0);
      expect(describeSchema(sql)).toEqual(fresh);
    });
  });

  it("is what migrate gives an object with no table, or with only an empty migrations table", async () => {
    const ref = uniqueRef("fresh-again");
    expect(await resultOf(await deliver("payment", await eventFor("payment", ref, "Pending")))).toBe("accepted");
    await runInDurableObject(ledgerOf(KINDS.payment, ref), async (_i, state) => {
      const sql = state.storage.sql;
      const fresh = describeSchema(sql);
      const dropAll = () => {
        for (const view of ["object_state", "deliveries"]) sql.exec(`DROP VIEW IF EXISTS ${view}`);
        for (const table of [...TABLES, "schema_migrations"]) sql.exec(`DROP TABLE IF EXISTS ${table}`);
      };
      dropAll();
      expect(await migrate(state.storage)).toBe("fresh");
      expect(describeSchema(sql)).toEqual(fresh);
      expect(sql.exec("SELECT version FROM schema_migrations").toArray()).toEqual([{ version: latestVersion() }]);
      dropAll();
      sql.exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)");
      expect(await migrate(state.storage)).toBe("fresh");
      expect(describeSchema(sql)).toEqual(fresh);
      expect(await migrate(state.storage)).toBe("migrated"); // once built, nothing to do
      expect(sql.exec("SELECT version FROM schema_migrations").toArray()).toEqual([{ version: latestVersion() }]);
    });
  });
});

describe("the deliveries view of version 10", () => {
  const v8View = MIGRATIONS.find((m) => m.version === 8)?.statements.at(-1) ?? "";
  const v10View = MIGRATIONS.find((m) => m.version === 10)?.statements.at(-1) ?? "";
  const DESTINATIONS = ["default", "erp", "crm"];
  const outboxState = fc.constantFrom("pending", "delivered", "dead");
  /** Per event: the destinations it names, and per destination the state of its outbox row, if any. */
  const object = fc.array(
    fc.record({
      named: fc.subarray(DESTINATIONS, { minLength: 0 }),
      rows: fc.array(fc.tuple(fc.constantFrom(...DESTINATIONS), outboxState), { maxLength: 3 }),
    }),
    { minLength: 1, maxLength: 12 },
  );

  it("gives the same rows as version 8's, for any outbox (O(n log n) where that was O(n²))", async () => {
    expect(v8View).toMatch(/^CREATE VIEW deliveries/);
    const ref = uniqueRef("view-v10");
    expect(await resultOf(await deliver("payment", await eventFor("payment", ref, "Pending")))).toBe("accepted");
    await runInDurableObject(ledgerOf(KINDS.payment, ref), (_i, state) => {
      const sql = state.storage.sql;
      const rows = () => sql.exec("SELECT * FROM deliveries ORDER BY seq, destination, state").toArray();
      fc.assert(
        fc.property(object, (events) => {
          sql.exec("DELETE FROM outbox");
          sql.exec("DELETE FROM events");
          for (const [i, e] of events.entries()) {
            const seq = i + 1;
            sql.exec(
              `INSERT INTO events (seq, event_id, provider, kind, object_ref, status, outcome, received_at, data, destinations)
               VALUES (?, ?, 'portone', 'payment', ?, 'Paid', 'accepted', '2026-12-04T00:00:00.000Z', '{}', ?)`,
              seq,
              `evt_${seq}`,
              ref,
              e.named.length === 0 ? null : JSON.stringify(e.named),
            );
            for (const [destination, outbox] of new Map(e.rows))
              sql.exec(
                `INSERT INTO outbox (seq, destination, event_id, state, next_attempt_at, updated_at) VALUES (?, ?, ?, ?, 0, 0)`,
                seq,
                destination,
                `evt_${seq}`,
                outbox,
              );
          }
          sql.exec("DROP VIEW deliveries");
          sql.exec(v10View);
          const now = rows();
          sql.exec("DROP VIEW deliveries");
          sql.exec(v8View);
          const before = rows();
          sql.exec("DROP VIEW deliveries");
          sql.exec(DELIVERIES_VIEW);
          expect(now).toEqual(before);
        }),
        { numRuns: 60 },
      );
    });
  });
});
