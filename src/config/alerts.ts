// Alerts: where operators are told (ALERTS, optional, JSON by name, set as a secret):
//   {"slack": {"url": "https://hooks.slack.com/services/…", "format": "slack"},
//    "ops":   {"url": "https://ops.example.com/gateway", "format": "standard", "secret": "whsec_…"},
//    "mail":  {"format": "email", "to": "ops@example.com", "from": "gateway@example.com"}}
// Validated once (by loadConfig) like DESTINATIONS; an error names the key (ALERTS.ops.secret). An
// invalid ALERTS changes nothing for providers: the alerts are still kept and shown, and the error is
// logged and shown on the console. `email` goes through Cloudflare Email (the ALERT_EMAIL send_email
// binding); its sender defaults to alerts@ the recipient's domain (a domain onboarded to Email Service).

import type { ConfigError } from "../lib/config-error";
import { isRecord, parseNamedJson, type EntryError } from "../lib/named-json";
import { err, ok, type Result } from "../lib/result";
import { MIN_SECRET_BYTES, parseStandardSecret } from "../lib/standard-webhooks";
import { outboundUrl } from "../lib/outbound";

export type AlertTarget =
  | { readonly name: string; readonly format: "slack"; readonly url: string }
  | { readonly name: string; readonly format: "standard"; readonly url: string; readonly secret: Uint8Array }
  | { readonly name: string; readonly format: "email"; readonly to: string; readonly from: string };

const NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const EMAIL = /^[^\s@<>",]+@[^\s@<>",]+\.[^\s@<>",]+$/;

/** The targets of ALERTS (none when unset), or what is wrong (its key names the entry and field). */
export function parseAlerts(raw: string | undefined): Result<readonly AlertTarget[], ConfigError> {
  if (raw === undefined) return ok([]);
  const parsed = parseNamedJson("ALERTS", raw, parseTarget);
  return parsed.ok ? ok(parsed.value.map(([, target]) => target)) : parsed;
}

const bad = (field: string | undefined, message: string): Result<never, EntryError> =>
  err(field === undefined ? { message } : { field, message });

function parseTarget(name: string, v: unknown): Result<AlertTarget, EntryError> {
  if (!NAME.test(name)) return bad(undefined, "a name is lower-case letters, digits, - and _");
  if (!isRecord(v)) return bad(undefined, "must be an object");
  if (v.format === "email") {
    const to = typeof v.to === "string" ? v.to.trim() : "";
    if (!EMAIL.test(to)) return bad("to", "an e-mail address");
    const from = typeof v.from === "string" ? v.from.trim() : `alerts@${to.slice(to.indexOf("@") + 1)}`;
    if (!EMAIL.test(from)) return bad("from", "an e-mail address on a domain onboarded to Cloudflare Email");
    return ok({ name, format: "email", to, from });
  }
  if (v.format !== "slack" && v.format !== "standard") return bad("format", "slack, standard or email");
  const url = outboundUrl(typeof v.url === "string" ? v.url.trim() : undefined);
  if (url === null) return bad("url", "an absolute https URL (http only to a loopback host)");
  if (v.format === "slack") return ok({ name, format: "slack", url });
  const secret = typeof v.secret === "string" ? parseStandardSecret(v.secret) : null;
  if (secret === null) return bad("secret", `whsec_ + base64 of at least ${MIN_SECRET_BYTES} bytes`);
  return ok({ name, format: "standard", url, secret });
}
