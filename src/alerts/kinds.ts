// The kinds of alert (design: "Alerts"): what each is about, how grave, and when it resolves by
// itself. An alert's key is `<kind>:<subject>`: a destination's name for destination.* and delivery.*,
// the route for ingest.*, `portone` for reconcile.*, `d1` for readmodel.*. Messages name only kinds,
// destinations, routes and counts: never a secret, token, signature, URL or a customer's data.

import { DAY_MS, HOUR_MS, MINUTE_MS } from "../lib/time";

export type Severity = "critical" | "warning" | "info";

export const ALERT_KINDS = {
  "destination.breaker_open": { severity: "critical", quietMs: null },
  "destination.paused": { severity: "info", quietMs: null },
  "delivery.dead_letter": { severity: "warning", quietMs: null },
  "reconcile.missed_webhook": { severity: "warning", quietMs: DAY_MS },
  "reconcile.auth_failed": { severity: "critical", quietMs: null },
  "ingest.signature_failures": { severity: "warning", quietMs: 15 * MINUTE_MS },
  "readmodel.lagging": { severity: "warning", quietMs: null },
} as const satisfies Record<string, { severity: Severity; quietMs: number | null }>;

export type AlertKind = keyof typeof ALERT_KINDS;

/** Bad signatures on one route within BURST.windowMs that open ingest.signature_failures. */
export const SIGNATURE_BURST = { count: 20, windowMs: 5 * MINUTE_MS };
/** How far behind the read model may fall before readmodel.lagging opens, in ms. */
export const READ_MODEL_LAG_MS = 5 * MINUTE_MS;
/** While an alert stays open, its targets are reminded at most this often, in ms. */
export const REMIND_EVERY_MS = HOUR_MS;

/** What happened, for the alert's message (one line an on-call engineer can act on). */
export function messageOf(kind: AlertKind, subject: string, count: number): string {
  switch (kind) {
    case "destination.breaker_open":
      return `Destination ${subject} is failing: its circuit breaker is open (${count} consecutive failures). Its events wait and one probe every 30 s checks whether it is back.`;
    case "destination.paused":
      return `Destination ${subject} was paused by an operator: its events wait until it is resumed.`;
    case "delivery.dead_letter":
      return `${count} event(s) were dead-lettered at destination ${subject} after their retries ran out. Fix the destination, then redeliver them from the console's dead letters.`;
    case "reconcile.missed_webhook":
      return `Reconciliation learned ${count} status(es) from PortOne's API that no webhook brought: PortOne's webhooks may not be reaching the gateway (check the webhook URL and secret in PortOne's console).`;
    case "reconcile.auth_failed":
      return "PortOne's API refused the gateway's credentials: reconciliation and refund confirmation have stopped. Check PORTONE_SECRET_KEY and PORTONE_KEY.";
    case "ingest.signature_failures":
      return `${count} webhook(s) with a bad signature on ${subject}: a secret rotated on one side only, or someone forging webhooks.`;
    case "readmodel.lagging":
      return "The read model (D1) is more than 5 minutes behind: events are still delivered, but searches, stats and the console are out of date.";
  }
}

/** What ended it, for the alert's message once resolved. */
export function resolvedMessageOf(kind: AlertKind, subject: string): string {
  switch (kind) {
    case "destination.breaker_open":
      return `Destination ${subject} takes events again: its breaker closed and the events that waited are being sent.`;
    case "destination.paused":
      return `Destination ${subject} was resumed: the events that waited are being sent.`;
    case "delivery.dead_letter":
      return `No dead letter is left at destination ${subject}.`;
    case "reconcile.missed_webhook":
      return "24 hours without a status that only PortOne's API knew: PortOne's webhooks reach the gateway.";
    case "reconcile.auth_failed":
      return "PortOne's API accepts the gateway's credentials again.";
    case "ingest.signature_failures":
      return `15 minutes without a bad signature on ${subject}.`;
    case "readmodel.lagging":
      return "The read model (D1) has caught up.";
  }
}
