// The alerts: one Durable Object (named "alerts") that keeps every alert as state (design: "Alerts")
// and the notifications owed to ALERTS' targets (notifications.ts), sent and retried by its alarm.
// Every part of the gateway reports to it only when something is wrong (report.ts), so the happy path
// costs it nothing. An alert opens once per key; while open, reports add to its count and move its
// last time; its targets hear of it once when it opens, at most once an hour while it stays open (with
// its count), and once when it resolves. A flapping alert does not flood them: one that reopens within
// REOPEN_GRACE_MS of its resolution is the same alert again, and its "opened" is held for the grace,
// then sent only if it is still open (a breaker opening and closing ten times in five minutes is one
// opened and one resolved). Notifications are retried with the deliveries' backoff, then given up
// (logged). Kinds that resolve by quiet (no bad signature for 15 minutes, no missed webhook for 24 h)
// are resolved by the alarm. Resolved alerts and sent notifications are pruned after 30 days.
// Bad signatures are counted here, where isolates meet (bursts.ts).

import { DurableObject } from "cloudflare:workers";
import { loadConfig } from "../config";
import type { AlertTarget } from "../config/alerts";
import { retryDelayMs } from "../lib/retry";
import { clock } from "../lib/clock";
import { describeConfigError } from "../lib/config-error";
import { log } from "../lib/log";
import { migrate } from "../lib/migrations";
import { MINUTE_MS } from "../lib/time";
import { Bursts } from "./bursts";
import { ALERT_KINDS, messageOf, REMIND_EVERY_MS, resolvedMessageOf, type AlertKind } from "./kinds";
import { Notifications, type NotificationRow } from "./notifications";
import { sendNotification, type AlertView, type NotificationType } from "./notify";
import { ALERTS_SCHEMA } from "./schema";

/** Webhooks refused on a route pattern with one answer (`reason`: the answer's error code). */
export interface RejectionCount {
  readonly route: string;
  readonly reason: string;
  readonly n: number;
}

/** A report: the condition was seen (`count` times), or `outstanding` more of it are left to clear. */
export interface AlertSignal {
  readonly kind: AlertKind;
  readonly subject: string;
  readonly count?: number;
  readonly outstanding?: number;
}

type AlertRow = {
  id: number;
  key: string;
  kind: AlertKind;
  severity: string;
  state: "open" | "resolved";
  opened_at: number;
  last_at: number;
  resolved_at: number | null;
  count: number;
  outstanding: number;
  message: string;
  notified_at: number;
};

/** Notifications sent per alarm run at most (the rest follow in the next run, at once). */
const SEND_BATCH = 20;
/** With ALERTS unusable, owed notifications wait this long before the targets are read again, in ms. */
const CONFIG_RETRY_MS = 5 * MINUTE_MS;
/** An alert that reopens this soon after it resolved is the same alert again, its "opened" held, in ms. */
export const REOPEN_GRACE_MS = 5 * MINUTE_MS;

const kindOf = (key: string): AlertKind => key.slice(0, key.indexOf(":")) as AlertKind;
const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
const earliest = (a: number | null, b: number | null): number | null =>
  a === null ? b : b === null ? a : Math.min(a, b);

function viewOf(row: AlertRow): AlertView {
  return {
    key: row.key,
    kind: row.kind,
    severity: ALERT_KINDS[row.kind].severity,
    state: row.state,
    opened_at: iso(row.opened_at) ?? "",
    last_at: iso(row.last_at) ?? "",
    resolved_at: iso(row.resolved_at),
    count: row.count,
    message: row.message,
  };
}

export class Alerts extends DurableObject<Env> {
  readonly #sql: SqlStorage;
  readonly #notifications: Notifications;
  readonly #bursts = new Bursts();
  /** The address the gateway was last reached at, as stored (undefined: not read yet). */
  #address: string | null | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    this.#notifications = new Notifications(this.#sql);
    void ctx.blockConcurrencyWhile(async () => {
      await migrate(ctx.storage, ALERTS_SCHEMA, new Date(clock.now()).toISOString());
    });
  }

  /** Opens the alert of this kind and subject, or adds to the open one. */
  async raise(signal: AlertSignal): Promise<AlertView> {
    const now = clock.now();
    const key = `${signal.kind}:${signal.subject}`;
    const count = Math.max(1, signal.count ?? 1);
    const outstanding = signal.outstanding ?? 0;
    const view = this.ctx.storage.transactionSync(() => {
      const open = this.#open(key);
      if (open !== null) return this.#addTo(open, signal, count, outstanding, now);
      const recent = this.#sql
        .exec<AlertRow>(
          `SELECT * FROM alerts WHERE key = ? AND state = 'resolved' AND resolved_at >= ?
            ORDER BY resolved_at DESC LIMIT 1`,
          key,
          now - REOPEN_GRACE_MS,
        )
        .toArray()[0];
      if (recent !== undefined) return this.#reopen(recent, signal, count, outstanding, now);
      const row = this.#sql
        .exec<AlertRow>(
          `INSERT INTO alerts (key, kind, severity, state, opened_at, last_at, count, outstanding, message, notified_at)
           VALUES (?, ?, ?, 'open', ?, ?, ?, ?, ?, ?) RETURNING *`,
          key,
          signal.kind,
          ALERT_KINDS[signal.kind].severity,
          now,
          now,
          count,
          Math.max(0, outstanding),
          messageOf(signal.kind, signal.subject, count),
          now,
        )
        .one();
      this.#owe(row, "gateway.alert.opened", now);
      log(row.severity === "critical" ? "error" : "warn", "alert opened", { key, count });
      return viewOf(row);
    });
    await this.#arm();
    return view;
  }

  /** Adds a report to the open alert; reminds its targets when the last notice is an hour old. */
  #addTo(open: AlertRow, signal: AlertSignal, count: number, outstanding: number, now: number): AlertView {
    const total = open.count + count;
    const remind = now - open.notified_at >= REMIND_EVERY_MS;
    const row = this.#sql
      .exec<AlertRow>(
        `UPDATE alerts SET count = ?, last_at = ?, outstanding = max(0, outstanding + ?), message = ?, notified_at = ?
          WHERE id = ? RETURNING *`,
        total,
        now,
        outstanding,
        messageOf(signal.kind, signal.subject, total),
        remind ? now : open.notified_at,
        open.id,
      )
      .one();
    if (remind) this.#owe(row, "gateway.alert.opened", now);
    return viewOf(row);
  }

  /** The same alert again, within the grace after it resolved: its "opened" waits out the grace. */
  #reopen(recent: AlertRow, signal: AlertSignal, count: number, outstanding: number, now: number): AlertView {
    const total = recent.count + count;
    const row = this.#sql
      .exec<AlertRow>(
        `UPDATE alerts SET state = 'open', resolved_at = NULL, count = ?, last_at = ?, outstanding = max(0, ?),
                message = ?, notified_at = ?
          WHERE id = ? RETURNING *`,
        total,
        now,
        outstanding,
        messageOf(signal.kind, signal.subject, total),
        now,
        recent.id,
      )
      .one();
    this.#owe(row, "gateway.alert.opened", now, { at: now + REOPEN_GRACE_MS, held: true });
    log("warn", "alert reopened within the grace after it resolved; its notification is held", {
      key: row.key,
      count: total,
    });
    return viewOf(row);
  }

  /** Resolves the open alert of this key (nothing when none is open). */
  async resolve(key: string): Promise<AlertView | null> {
    const view = this.ctx.storage.transactionSync(() => this.#resolve(key, clock.now()));
    await this.#arm();
    return view;
  }

  /** `count` of what the alert counts was cleared (dead letters redelivered): resolves it when none is left. */
  async clear(key: string, count: number): Promise<AlertView | null> {
    const now = clock.now();
    const view = this.ctx.storage.transactionSync(() => {
      const open = this.#open(key);
      if (open === null) return null;
      const left = open.outstanding - count;
      if (left <= 0) return this.#resolve(key, now);
      this.#sql.exec("UPDATE alerts SET outstanding = ? WHERE id = ?", left, open.id);
      return viewOf({ ...open, outstanding: left });
    });
    await this.#arm();
    return view;
  }

  /** Bad signatures seen on a route by one isolate (report.ts batches them): counted here, where
   *  every isolate's reports meet, in memory; a burst opens ingest.signature_failures. */
  async countBadSignatures(route: string, n: number): Promise<void> {
    const report = this.#bursts.count(route, n, clock.now(), this.#open(`ingest.signature_failures:${route}`) !== null);
    if (report !== null) await this.raise({ kind: "ingest.signature_failures", subject: route, count: report });
  }

  /** Adds one isolate's batch of refused webhooks to the durable counts (one write per batch). */
  countRejections(batch: readonly RejectionCount[]): void {
    if (batch.length === 0) return;
    this.ctx.storage.transactionSync(() => {
      for (const { route, reason, n } of batch)
        this.#sql.exec(
          `INSERT INTO rejections (route, reason, n) VALUES (?, ?, ?)
           ON CONFLICT (route, reason) DO UPDATE SET n = n + excluded.n`,
          route,
          reason,
          n,
        );
    });
  }

  /** Every refused webhook counted so far, by route pattern and reason. */
  rejections(): RejectionCount[] {
    return this.#sql
      .exec<{ route: string; reason: string; n: number }>(
        "SELECT route, reason, n FROM rejections ORDER BY route, reason",
      )
      .toArray();
  }

  /** Remembers the address the gateway was reached at (for console links when GATEWAY_URL is unset);
   *  written only when it changed. */
  async noteAddress(origin: string): Promise<void> {
    this.#address ??= (await this.ctx.storage.get<string>("address")) ?? null;
    if (this.#address === origin) return;
    await this.ctx.storage.put("address", origin);
    this.#address = origin;
  }

  /** Alerts, newest first: the open ones, the resolved ones, or both. */
  list(state?: "open" | "resolved", limit = 100): AlertView[] {
    return this.#sql
      .exec<AlertRow>(
        "SELECT * FROM alerts WHERE ?1 IS NULL OR state = ?1 ORDER BY last_at DESC, id DESC LIMIT ?2",
        state ?? null,
        Math.min(Math.max(1, limit), 500),
      )
      .toArray()
      .map(viewOf);
  }

  /** Resolves the alerts quiet long enough, sends what is owed, prunes what is old. */
  override async alarm(): Promise<void> {
    const now = clock.now();
    this.ctx.storage.transactionSync(() => {
      for (const row of this.#sql.exec<AlertRow>("SELECT * FROM alerts WHERE state = 'open'").toArray()) {
        const quietMs = ALERT_KINDS[row.kind].quietMs;
        if (quietMs !== null && row.last_at + quietMs <= now) this.#resolve(row.key, now);
      }
    });
    await this.#sendDue(now);
    this.#notifications.prune(now);
    await this.#arm();
  }

  #open(key: string): AlertRow | null {
    return this.#sql.exec<AlertRow>("SELECT * FROM alerts WHERE key = ? AND state = 'open'", key).toArray()[0] ?? null;
  }

  #resolve(key: string, now: number): AlertView | null {
    const row = this.#sql
      .exec<AlertRow>(
        "UPDATE alerts SET state = 'resolved', resolved_at = ?, message = ? WHERE key = ? AND state = 'open' RETURNING *",
        now,
        resolvedMessageOf(kindOf(key), key.slice(key.indexOf(":") + 1)),
        key,
      )
      .toArray()[0];
    if (row === undefined) return null;
    // A reopen whose "opened" was still held was never announced: nor is this resolution.
    if (!this.#notifications.dropHeld(row.id)) this.#owe(row, "gateway.alert.resolved", now);
    log("warn", "alert resolved", { key, count: row.count });
    return viewOf(row);
  }

  /** Owes the change to every target, in the transaction that changed the alert; with ALERTS invalid,
   *  to whichever targets it names once fixed (logged now, naming the bad key). */
  #owe(row: AlertRow, type: NotificationType, now: number, options: { at?: number; held?: boolean } = {}): void {
    const targets = loadConfig(this.env).alerts;
    if (!targets.ok)
      log("error", "alert not notified yet: ALERTS is invalid; it is sent once ALERTS is fixed", {
        key: row.key,
        config: describeConfigError(targets.error),
      });
    const names = targets.ok ? targets.value.map((t) => t.name) : null;
    this.#notifications.owe({ id: row.id, view: JSON.stringify(viewOf(row)) }, type, names, now, options);
  }

  async #sendDue(now: number): Promise<void> {
    const config = loadConfig(this.env);
    if (!config.alerts.ok) {
      this.#notifications.postpone(now, now + CONFIG_RETRY_MS);
      return;
    }
    const targets = new Map<string, AlertTarget>(config.alerts.value.map((t) => [t.name, t]));
    this.ctx.storage.transactionSync(() => this.#notifications.expandAnyTarget([...targets.keys()]));
    const due = this.#notifications.due(now, SEND_BATCH);
    if (due.length === 0) return;
    this.#address ??= (await this.ctx.storage.get<string>("address")) ?? null;
    const base = config.publicUrl ?? this.#address;
    const consoleUrl = base === null ? null : `${base}/console/alerts`;
    await Promise.all(due.map((row) => this.#sendOne(row, targets.get(row.target), consoleUrl)));
  }

  async #sendOne(row: NotificationRow, target: AlertTarget | undefined, consoleUrl: string | null): Promise<void> {
    const notification = {
      id: row.id,
      type: row.type,
      created_at: new Date(row.created_at).toISOString(),
      alert: JSON.parse(row.alert) as AlertView,
      consoleUrl,
    };
    const sent =
      target === undefined
        ? ({ ok: false, error: `target ${row.target} is no longer in ALERTS` } as const)
        : await sendNotification(this.env, target, notification);
    const now = clock.now();
    if (sent.ok) return this.#notifications.sent(row.id);
    const delay = target === undefined ? null : retryDelayMs(row.attempts + 1, Math.random());
    this.#notifications.failed(row.id, sent.error, delay === null ? null : now + delay, now);
    const fields = { target: row.target, type: row.type, attempt: row.attempts + 1, error: sent.error };
    if (delay === null) log("error", "alert notification given up", fields);
    else
      log("warn", "alert notification failed; retried", { ...fields, retry_at: new Date(now + delay).toISOString() });
  }

  /** The alarm at the earliest of: a notification due, an alert that resolves by quiet, a prune. */
  async #arm(): Promise<void> {
    let at = earliest(this.#notifications.nextDue(), this.#notifications.nextPruneAt());
    for (const row of this.#sql.exec<AlertRow>("SELECT * FROM alerts WHERE state = 'open'").toArray()) {
      const quietMs = ALERT_KINDS[row.kind].quietMs;
      if (quietMs !== null) at = earliest(at, row.last_at + quietMs);
    }
    if (at === null) return;
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
  }
}
