// The alerts: one Durable Object (named "alerts") that keeps every alert as state (design: "Alerts")
// and the notifications owed to ALERTS' targets, sent and retried by its alarm. Every part of the
// gateway reports to it only when something is wrong (report.ts), so the happy path costs it nothing.
// An alert opens once per key; while open, reports add to its count and move its last time; its
// targets hear of it once when it opens, at most once an hour while it stays open (with its count),
// and once when it resolves. A notification is stored before it is sent, so an outage of a target
// (Slack down during an origin outage) delays it and never loses it; each is retried with the
// deliveries' backoff, then given up (logged). Kinds that resolve by quiet (no bad signature for 15
// minutes, no missed webhook for 24 h) are resolved by the alarm.

import { DurableObject } from "cloudflare:workers";
import { loadConfig } from "../config";
import type { AlertTarget } from "../config/alerts";
import { retryDelayMs } from "../egress/schedule";
import { clock } from "../lib/clock";
import { describeConfigError } from "../lib/config-error";
import { log } from "../lib/log";
import { ALERT_KINDS, messageOf, REMIND_EVERY_MS, resolvedMessageOf, type AlertKind } from "./kinds";
import { sendNotification, type AlertView, type NotificationType } from "./notify";

/** A report: the condition was seen (`count` times), or `outstanding` more of it are left to clear. */
export interface AlertSignal {
  readonly kind: AlertKind;
  readonly subject: string;
  readonly count?: number;
  readonly outstanding?: number;
}

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS alerts (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     key TEXT NOT NULL,
     kind TEXT NOT NULL,
     severity TEXT NOT NULL,
     state TEXT NOT NULL CHECK (state IN ('open', 'resolved')),
     opened_at INTEGER NOT NULL,
     last_at INTEGER NOT NULL,
     resolved_at INTEGER,
     count INTEGER NOT NULL,
     outstanding INTEGER NOT NULL DEFAULT 0,
     message TEXT NOT NULL,
     notified_at INTEGER NOT NULL
   )`,
  "CREATE UNIQUE INDEX IF NOT EXISTS alerts_open ON alerts (key) WHERE state = 'open'",
  `CREATE TABLE IF NOT EXISTS notifications (
     id TEXT PRIMARY KEY,
     target TEXT NOT NULL,
     type TEXT NOT NULL,
     alert TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     attempts INTEGER NOT NULL DEFAULT 0,
     next_attempt_at INTEGER NOT NULL,
     state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
     last_error TEXT
   )`,
  "CREATE INDEX IF NOT EXISTS notifications_due ON notifications (state, next_attempt_at)",
];

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

type NotificationRow = {
  id: string;
  target: string;
  type: NotificationType;
  alert: string;
  created_at: number;
  attempts: number;
};

/** Notifications sent per alarm run at most (the rest follow in the next run, at once). */
const SEND_BATCH = 20;
/** With ALERTS unusable, owed notifications wait this long before the targets are read again, in ms. */
const CONFIG_RETRY_MS = 5 * 60_000;

const kindOf = (key: string): AlertKind => key.slice(0, key.indexOf(":")) as AlertKind;
const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

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

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    for (const statement of SCHEMA) this.#sql.exec(statement);
  }

  /** Opens the alert of this kind and subject, or adds to the open one. */
  async raise(signal: AlertSignal): Promise<AlertView> {
    const now = clock.now();
    const key = `${signal.kind}:${signal.subject}`;
    const count = Math.max(1, signal.count ?? 1);
    const outstanding = signal.outstanding ?? 0;
    const view = this.ctx.storage.transactionSync(() => {
      const open = this.#open(key);
      if (open === null) {
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
      }
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
    });
    await this.#arm();
    return view;
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

  /** Resolves the alerts quiet long enough, then sends what is owed. */
  override async alarm(): Promise<void> {
    const now = clock.now();
    this.ctx.storage.transactionSync(() => {
      for (const row of this.#sql.exec<AlertRow>("SELECT * FROM alerts WHERE state = 'open'").toArray()) {
        const quietMs = ALERT_KINDS[row.kind].quietMs;
        if (quietMs !== null && row.last_at + quietMs <= now) this.#resolve(row.key, now);
      }
    });
    await this.#sendDue(now);
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
    this.#owe(row, "gateway.alert.resolved", now);
    log("warn", "alert resolved", { key, count: row.count });
    return viewOf(row);
  }

  /** Stores one notification per target, in the transaction that changed the alert. */
  #owe(row: AlertRow, type: NotificationType, now: number): void {
    const targets = loadConfig(this.env).alerts;
    if (!targets.ok) {
      log("error", "alert not notified: ALERTS is invalid", {
        key: row.key,
        config: describeConfigError(targets.error),
      });
      return;
    }
    const alert = JSON.stringify(viewOf(row));
    for (const target of targets.value)
      this.#sql.exec(
        "INSERT INTO notifications (id, target, type, alert, created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?)",
        `alert_${crypto.randomUUID().replace(/-/g, "")}`,
        target.name,
        type,
        alert,
        now,
        now,
      );
  }

  async #sendDue(now: number): Promise<void> {
    const config = loadConfig(this.env);
    const due = this.#sql
      .exec<NotificationRow>(
        `SELECT id, target, type, alert, created_at, attempts FROM notifications
          WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY created_at LIMIT ?`,
        now,
        SEND_BATCH,
      )
      .toArray();
    if (due.length === 0) return;
    if (!config.alerts.ok) {
      this.#sql.exec("UPDATE notifications SET next_attempt_at = ? WHERE state = 'pending'", now + CONFIG_RETRY_MS);
      return;
    }
    const targets = new Map<string, AlertTarget>(config.alerts.value.map((t) => [t.name, t]));
    const consoleUrl = config.publicUrl === null ? null : `${config.publicUrl}/console/alerts`;
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
    if (sent.ok) {
      this.#sql.exec(
        "UPDATE notifications SET state = 'sent', attempts = attempts + 1, last_error = NULL WHERE id = ?",
        row.id,
      );
      return;
    }
    const delay = target === undefined ? null : retryDelayMs(row.attempts + 1, Math.random());
    this.#sql.exec(
      "UPDATE notifications SET attempts = attempts + 1, last_error = ?, state = ?, next_attempt_at = ? WHERE id = ?",
      sent.error,
      delay === null ? "failed" : "pending",
      delay === null ? now : now + delay,
      row.id,
    );
    const fields = { target: row.target, type: row.type, attempt: row.attempts + 1, error: sent.error };
    if (delay === null) log("error", "alert notification given up", fields);
    else
      log("warn", "alert notification failed; retried", { ...fields, retry_at: new Date(now + delay).toISOString() });
  }

  /** The alarm at the earliest of: a notification due, an alert that resolves by quiet. */
  async #arm(): Promise<void> {
    const next = this.#sql
      .exec<{ at: number | null }>("SELECT min(next_attempt_at) AS at FROM notifications WHERE state = 'pending'")
      .one().at;
    let at = next;
    for (const row of this.#sql.exec<AlertRow>("SELECT * FROM alerts WHERE state = 'open'").toArray()) {
      const quietMs = ALERT_KINDS[row.kind].quietMs;
      if (quietMs !== null) at = at === null ? row.last_at + quietMs : Math.min(at, row.last_at + quietMs);
    }
    if (at === null) return;
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
  }
}
