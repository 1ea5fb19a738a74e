// One notification to one ALERTS target: a Slack incoming-webhook post (`{"text": …}`, short enough to
// read on a phone), a Standard Webhooks POST signed like a forwarded event (type gateway.alert.opened
// or gateway.alert.resolved, the alert's fields in `data`), or an e-mail through Cloudflare Email.
// Never through a destination's gate: an alert about a destination must not wait for its breaker.
// What a notification carries is the alert's own fields (kind, subject, counts, times, the message
// kinds.ts wrote): no secret, token, signature or customer data.

import type { AlertTarget } from "../config/alerts";
import { fetchBounded } from "../lib/outbound";
import { err, errorText, ok, type Result } from "../lib/result";
import { standardWebhookHeaders, standardWebhookKey } from "../lib/standard-webhooks";
import type { AlertKind, Severity } from "./kinds";

/** An alert as operators see it (GET /admin/alerts, the console, notifications). */
export interface AlertView {
  readonly key: string;
  readonly kind: AlertKind;
  readonly severity: Severity;
  readonly state: "open" | "resolved";
  readonly opened_at: string;
  readonly last_at: string;
  readonly resolved_at: string | null;
  readonly count: number;
  readonly message: string;
}

export type NotificationType = "gateway.alert.opened" | "gateway.alert.resolved";

export interface Notification {
  readonly id: string;
  readonly type: NotificationType;
  readonly created_at: string;
  readonly alert: AlertView;
  readonly consoleUrl: string | null;
}

const TIMEOUT_MS = 10_000;
const EXCERPT_BYTES = 200;

/** Sends one notification; a failure says why (to retry it). */
export async function sendNotification(env: Env, target: AlertTarget, n: Notification): Promise<Result<void, string>> {
  try {
    if (target.format === "email") {
      if (typeof env.ALERT_EMAIL?.send !== "function") return err("no send_email binding named ALERT_EMAIL");
      await env.ALERT_EMAIL.send({ from: target.from, to: target.to, subject: subjectLine(n), text: emailText(n) });
      return ok(undefined);
    }
    const { body, headers } =
      target.format === "slack"
        ? { body: JSON.stringify({ text: slackText(n) }), headers: { "content-type": "application/json" } }
        : await standardRequest(target.secret, n);
    const answer = await fetchBounded(
      target.url,
      { method: "POST", headers: { ...headers, "user-agent": "edge-webhook-gateway" }, body, redirect: "manual" },
      { timeoutMs: TIMEOUT_MS, maxBytes: EXCERPT_BYTES, readBody: (status) => status < 200 || status >= 300 },
    );
    if (answer.status >= 200 && answer.status < 300) return ok(undefined);
    return err(`${new URL(target.url).host} answered ${answer.status}`);
  } catch (thrown) {
    return err(errorText(thrown));
  }
}

const subjectOf = (key: string): string => key.slice(key.indexOf(":") + 1);

/** `{"id", "type", "created_at", "data": {…the alert, console_url}}`, signed with the target's secret. */
async function standardRequest(
  secret: Uint8Array,
  n: Notification,
): Promise<{ body: string; headers: Record<string, string> }> {
  const body = JSON.stringify({
    id: n.id,
    type: n.type,
    created_at: n.created_at,
    data: { ...n.alert, console_url: n.consoleUrl },
  });
  // The wall clock, not the clock seam: the receiver checks the timestamp against its own wall clock,
  // so a notification sent while tests move the gateway's time must still carry the real time.
  const timestamp = Math.floor(Date.now() / 1000);
  const signed = await standardWebhookHeaders(await standardWebhookKey(secret), n.id, timestamp, body);
  return { body, headers: { "content-type": "application/json", ...signed } };
}

const resolved = (n: Notification): boolean => n.type === "gateway.alert.resolved";

/** Slack: the severity, kind and subject first (a phone's lock screen shows the first line). */
function slackText(n: Notification): string {
  const { alert } = n;
  const head = resolved(n)
    ? `:white_check_mark: Resolved [${alert.severity}] ${alert.kind}: ${subjectOf(alert.key)}`
    : `${alert.severity === "critical" ? ":rotating_light:" : ":warning:"} [${alert.severity}] ${alert.kind}: ${subjectOf(alert.key)}`;
  const since = `open since ${alert.opened_at}, seen ${alert.count}×`;
  const link = n.consoleUrl === null ? "" : `\n<${n.consoleUrl}|Open the console>`;
  return `${head}\n${alert.message}\n${resolved(n) ? `resolved at ${alert.resolved_at ?? ""}, ` : ""}${since}${link}`;
}

function subjectLine(n: Notification): string {
  const { alert } = n;
  return `[gateway ${alert.severity}] ${resolved(n) ? "resolved: " : ""}${alert.kind} ${subjectOf(alert.key)}`;
}

function emailText(n: Notification): string {
  const { alert } = n;
  return [
    alert.message,
    "",
    `alert: ${alert.key} (${alert.severity}), ${resolved(n) ? `resolved at ${alert.resolved_at ?? ""}` : "open"}`,
    `opened at ${alert.opened_at}, last seen ${alert.last_at}, count ${alert.count}`,
    ...(n.consoleUrl === null ? [] : [`console: ${n.consoleUrl}`]),
  ].join("\n");
}
