// The notifications the alerts object owes ALERTS' targets, in its SQLite: one row per target and
// change, stored in the transaction that changed the alert and before anything is sent, so an outage of
// a target delays a notification and never loses it. With ALERTS invalid, a change is owed to `*`,
// whatever targets ALERTS names once it is fixed (an alert opened meanwhile is announced then, never
// only as "resolved"). An "opened" held after a quick reopen waits out the grace and is dropped unsent
// if the alert resolves again meanwhile. Sent and given-up rows are kept 30 days, then pruned.

import { DAY_MS } from "../lib/time";
import type { NotificationType } from "./notify";

/** The target of a notification owed while ALERTS is invalid: every target it names once fixed. */
const ANY_TARGET = "*";
/** Sent and given-up notifications, and resolved alerts, are kept this long, in ms. */
export const KEEP_MS = 30 * DAY_MS;

export type NotificationRow = {
  id: string;
  target: string;
  type: NotificationType;
  alert: string;
  created_at: number;
  attempts: number;
};

const newId = (): string => `alert_${crypto.randomUUID().replace(/-/g, "")}`;

export class Notifications {
  constructor(private readonly sql: SqlStorage) {}

  /** Owes `type` about one alert (its id, and its view as JSON) to each target, or to `*` when ALERTS
   *  is invalid (`targets` null); due at `at`, held when it waits out a reopen's grace. */
  owe(
    alert: { readonly id: number; readonly view: string },
    type: NotificationType,
    targets: readonly string[] | null,
    now: number,
    options: { readonly at?: number; readonly held?: boolean } = {},
  ): void {
    for (const target of targets ?? [ANY_TARGET])
      this.sql.exec(
        `INSERT INTO notifications (id, target, type, alert, created_at, next_attempt_at, alert_id, held)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        newId(),
        target,
        type,
        alert.view,
        now,
        options.at ?? now,
        alert.id,
        options.held === true ? 1 : 0,
      );
  }

  /** Turns what was owed to `*` (ALERTS invalid then) into one notification per target named now. */
  expandAnyTarget(targets: readonly string[]): void {
    const owed = this.sql.exec<{ id: string }>("SELECT id FROM notifications WHERE target = ?", ANY_TARGET).toArray();
    for (const { id } of owed) {
      for (const target of targets)
        this.sql.exec(
          `INSERT INTO notifications (id, target, type, alert, created_at, next_attempt_at, alert_id, held, state)
           SELECT ?, ?, type, alert, created_at, next_attempt_at, alert_id, held, state FROM notifications WHERE id = ?`,
          newId(),
          target,
          id,
        );
      this.sql.exec("DELETE FROM notifications WHERE id = ?", id);
    }
  }

  /** Drops the held "opened" of an alert not tried yet; true when there was one (the reopen it was
   *  about was never announced, so neither is its resolution). */
  dropHeld(alertId: number): boolean {
    return (
      this.sql.exec(
        "DELETE FROM notifications WHERE alert_id = ? AND held = 1 AND state = 'pending' AND attempts = 0",
        alertId,
      ).rowsWritten > 0
    );
  }

  due(now: number, limit: number): NotificationRow[] {
    return this.sql
      .exec<NotificationRow>(
        `SELECT id, target, type, alert, created_at, attempts FROM notifications
          WHERE state = 'pending' AND next_attempt_at <= ? AND target <> ? ORDER BY created_at LIMIT ?`,
        now,
        ANY_TARGET,
        limit,
      )
      .toArray();
  }

  /** Every notification due by `now` waits until `until` (ALERTS is invalid: its targets are unknown). */
  postpone(now: number, until: number): void {
    this.sql.exec(
      "UPDATE notifications SET next_attempt_at = ? WHERE state = 'pending' AND next_attempt_at <= ?",
      until,
      now,
    );
  }

  sent(id: string): void {
    this.sql.exec(
      "UPDATE notifications SET state = 'sent', attempts = attempts + 1, last_error = NULL WHERE id = ?",
      id,
    );
  }

  /** A failed attempt: tried again at `retryAt`, or given up (null). */
  failed(id: string, error: string, retryAt: number | null, now: number): void {
    this.sql.exec(
      "UPDATE notifications SET attempts = attempts + 1, last_error = ?, state = ?, next_attempt_at = ? WHERE id = ?",
      error,
      retryAt === null ? "failed" : "pending",
      retryAt ?? now,
      id,
    );
  }

  /** When the next notification is due (null: none is owed). */
  nextDue(): number | null {
    return this.sql
      .exec<{ at: number | null }>("SELECT min(next_attempt_at) AS at FROM notifications WHERE state = 'pending'")
      .one().at;
  }

  /** Removes sent and given-up notifications, and resolved alerts, older than KEEP_MS. */
  prune(now: number): void {
    const before = now - KEEP_MS;
    this.sql.exec("DELETE FROM notifications WHERE state <> 'pending' AND created_at < ?", before);
    this.sql.exec("DELETE FROM alerts WHERE state = 'resolved' AND resolved_at < ?", before);
  }

  /** When the oldest of what prune() removes is due for removal (null: nothing to prune later). */
  nextPruneAt(): number | null {
    const oldest = this.sql
      .exec<{ at: number | null }>(
        `SELECT min(at) AS at FROM (
           SELECT min(created_at) AS at FROM notifications WHERE state <> 'pending'
           UNION ALL SELECT min(resolved_at) FROM alerts WHERE state = 'resolved')`,
      )
      .one().at;
    return oldest === null ? null : oldest + KEEP_MS;
  }
}
