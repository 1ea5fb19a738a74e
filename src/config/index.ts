// The one place the environment's variables are read. loadConfig(env) turns them into a typed
// Config once per environment object (the runtime hands a Worker the same one for its isolate's
// life; secrets change only with a deploy), with the single validator for each kind of value:
// PortOne keys, the origin URL, whsec secrets, CIDR lists, generic sources.
// A value that is optional is optional here (the generated Env types every variable as a required
// string; a deployment may not set them). A value that can be invalid is a Result whose error names
// the key, so each feature fails closed on its own: a bad WEBHOOK_SOURCES refuses the generic routes
// and leaves PortOne's working, as a missing origin delays delivery and never an acknowledgement.

import { parseCidr, type CidrRange } from "../lib/cidr";
import { describeConfigError, type ConfigError } from "../lib/config-error";
import { log, type Level } from "../lib/log";
import { outboundUrl } from "../lib/outbound";
import { err, ok, type Result } from "../lib/result";
import { MIN_SECRET_BYTES, parseStandardSecret } from "../lib/standard-webhooks";
import { DEFAULT_DESTINATION, DEFAULT_TIMEOUT_MS, parseDestinations, type Destination } from "./destinations";
import { parseSources, type Source } from "../providers/sources/parse";
import { reconcileSettings, type ReconcileSettings } from "./reconcile";
import { parseAlerts, type AlertTarget } from "./alerts";
import { exampleVariables } from "./examples";

export type { ConfigError } from "../lib/config-error";

export interface PortOneConfig {
  /** Secret Keys, trimmed, empties dropped; several during a rotation. Empty: not configured. */
  readonly secrets: readonly string[];
  /** The PortOne Key (client key), for PortOne's API; absent when unset. */
  readonly apiKey?: string;
  /** PortOne's API, without a trailing slash. */
  readonly apiBaseUrl: string;
}

interface ForwardConfig {
  /** The destination: https, or http to a loopback host in development. */
  readonly url: string;
  /** The Standard Webhooks key bytes (from whsec_ + base64). */
  readonly secret: Uint8Array;
}

/** Cloudflare Access in front of the console: the team's domain and the application's audience tag. */
export interface AccessConfig {
  readonly teamDomain: string;
  readonly audience: string;
}

export interface Config {
  readonly portone: PortOneConfig;
  /** Where events go: `default` (unless only named destinations are configured) and DESTINATIONS. */
  readonly destinations: Result<readonly Destination[], ConfigError>;
  readonly sources: Result<ReadonlyMap<string, Source>, ConfigError>;
  /** null: no allowlist (every source may post). */
  readonly allowlist: Result<readonly CidrRange[] | null, ConfigError>;
  /** Absent: the admin API and console are closed (404). */
  readonly adminToken?: string;
  /** null: the console's own token login; set: Cloudflare Access vouches for each console request. */
  readonly access: Result<AccessConfig | null, ConfigError>;
  readonly logLevel: Level;
  /** Whether the KV "seen" hint is read and written (SEEN_HINT, default on). */
  readonly seenHint: boolean;
  /** Reconciliation with PortOne's API and retention (config/reconcile.ts). */
  readonly reconcile: Result<ReconcileSettings, ConfigError>;
  /** Where operators are told of alerts (config/alerts.ts); none when ALERTS is unset. */
  readonly alerts: Result<readonly AlertTarget[], ConfigError>;
  /** The gateway's own address (GATEWAY_URL), for links in notifications; null when unset. */
  readonly publicUrl: string | null;
  /** Variables holding a secret published in .dev.vars.example, outside `npm run dev` (examples.ts):
   *  while any does, webhooks are refused and the admin API and console are closed. */
  readonly examples: readonly string[];
  /** Where the singletons (the read model's writers, the alerts object) are created: a location hint,
   *  or undefined (near their first caller). */
  readonly singletonLocation: DurableObjectLocationHint | undefined;
  /** How many writers share the read model's snapshots (READ_MODEL_WRITERS, 1 to 16; default 1). */
  readonly readModelWriters: number;
}

const LOCATION_HINTS: readonly string[] = ["wnam", "enam", "sam", "weur", "eeur", "apac", "oc", "afr", "me"];

export const DEFAULT_PORTONE_API_BASE_URL = "https://api.portone.cloud";

const cache = new WeakMap<object, Config>();

export function loadConfig(env: Env): Config {
  let config = cache.get(env);
  if (!config) {
    config = readConfig(env);
    cache.set(env, config);
    // Nothing a provider sends depends on ALERTS: it is only logged (once per isolate) and shown.
    if (!config.alerts.ok)
      log("error", "ALERTS is invalid: alerts are kept but nobody is notified", {
        config: describeConfigError(config.alerts.error),
      });
    if (config.examples.length > 0)
      log("error", "published example values in production: webhooks, the admin API and the console are refused", {
        variables: config.examples.join(", "),
      });
  }
  return config;
}

function readConfig(env: Env): Config {
  const text = (name: keyof Env): string | undefined => {
    const value: unknown = env[name];
    return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
  };
  const apiKey = text("PORTONE_KEY");
  const examples = exampleVariables((name) => {
    const value: unknown = (env as unknown as Record<string, unknown>)[name];
    return typeof value === "string" ? value : undefined;
  });
  // A published token opens nothing: the admin API and console answer as without one.
  const adminToken = examples.length > 0 ? undefined : text("ADMIN_TOKEN");
  const level = text("LOG_LEVEL")?.toLowerCase();
  const forward = forwardConfig(text("MERCHANT_ORIGIN_URL"), text("FORWARD_SIGNING_SECRET"));
  const originVars = text("MERCHANT_ORIGIN_URL") !== undefined || text("FORWARD_SIGNING_SECRET") !== undefined;
  return {
    portone: {
      secrets: list(text("PORTONE_SECRET_KEY")),
      ...(apiKey === undefined ? {} : { apiKey }),
      apiBaseUrl: (text("PORTONE_API_BASE_URL") ?? DEFAULT_PORTONE_API_BASE_URL).replace(/\/+$/, ""),
    },
    destinations: destinationsConfig(forward, originVars, text("DESTINATIONS")),
    sources: parseSources(text("WEBHOOK_SOURCES") ?? ""),
    allowlist: allowlistConfig(text("ALLOWED_SOURCE_IPS")),
    ...(adminToken === undefined ? {} : { adminToken }),
    access: accessConfig(text("CF_ACCESS_TEAM_DOMAIN"), text("CF_ACCESS_AUD")),
    logLevel: level === "debug" || level === "warn" || level === "error" ? level : "info",
    seenHint: text("SEEN_HINT")?.toLowerCase() !== "off",
    reconcile: reconcileSettings((name) => text(name as keyof Env)),
    alerts: parseAlerts(text("ALERTS")),
    publicUrl: outboundUrl(text("GATEWAY_URL"))?.replace(/\/+$/, "") ?? null,
    examples,
    singletonLocation: locationHint(text("SINGLETON_LOCATION")),
    readModelWriters: writers(text("READ_MODEL_WRITERS")),
  };
}

/** READ_MODEL_WRITERS: a whole number from 1 to 16; anything else is logged and taken as 1. */
function writers(raw: string | undefined): number {
  if (raw === undefined) return 1;
  const n = Number(raw);
  if (Number.isInteger(n) && n >= 1 && n <= 16) return n;
  log("error", "READ_MODEL_WRITERS is not a whole number from 1 to 16; one writer is used", {});
  return 1;
}

/** A Durable Object location hint; anything else is logged and ignored (the objects are still created). */
function locationHint(raw: string | undefined): DurableObjectLocationHint | undefined {
  if (raw === undefined) return undefined;
  if (LOCATION_HINTS.includes(raw.toLowerCase())) return raw.toLowerCase() as DurableObjectLocationHint;
  log("error", "SINGLETON_LOCATION is not a location hint; ignored", { expected: LOCATION_HINTS.join(", ") });
  return undefined;
}

/** A comma-separated list, entries trimmed, empties dropped (a pasted newline must not count). */
function list(raw: string | undefined): string[] {
  return (raw ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

/** `default` takes every type and is kept whenever its variables are set, or when nothing else is
 *  configured (then a missing origin fails each attempt visibly, as before destinations existed). It
 *  is built once, from the same validation as `forward`: when that fails it carries the problem, and
 *  every attempt to it fails with it (ledger/alarm.ts). */
function destinationsConfig(
  forward: Result<ForwardConfig, ConfigError>,
  configured: boolean,
  raw: string | undefined,
): Result<readonly Destination[], ConfigError> {
  const named = parseDestinations(raw);
  if (!named.ok) return named;
  if (!configured && named.value.length > 0) return ok(named.value);
  const fallback: Destination = {
    name: DEFAULT_DESTINATION,
    url: forward.ok ? forward.value.url : "",
    secret: forward.ok ? forward.value.secret : new Uint8Array(0),
    types: null,
    matchers: null,
    timeoutMs: DEFAULT_TIMEOUT_MS,
    maxPerSecond: null,
    maxConcurrency: null,
    maxAttempts: null,
    filter: null,
    original: false,
    ...(forward.ok ? {} : { unusable: forward.error }),
  };
  return ok([fallback, ...named.value]);
}

function forwardConfig(url: string | undefined, secret: string | undefined): Result<ForwardConfig, ConfigError> {
  const origin = outboundUrl(url);
  if (origin === null) {
    return err({
      key: "MERCHANT_ORIGIN_URL",
      message: "not set, not absolute, or http to a non-loopback host (https is required)",
    });
  }
  const bytes = parseStandardSecret(secret);
  if (bytes === null) {
    return err({
      key: "FORWARD_SIGNING_SECRET",
      message: `not set, or not whsec_ + base64 of at least ${MIN_SECRET_BYTES} bytes`,
    });
  }
  return ok({ url: origin, secret: bytes });
}

/** Every entry must parse: dropping a bad one could open or close the gateway unintended. */
function allowlistConfig(raw: string | undefined): Result<readonly CidrRange[] | null, ConfigError> {
  const entries = list(raw);
  if (entries.length === 0) return ok(null);
  const ranges: CidrRange[] = [];
  for (const entry of entries) {
    const range = parseCidr(entry);
    if (range === null) return err({ key: "ALLOWED_SOURCE_IPS", message: `entry ${entry} is not an IP or CIDR range` });
    ranges.push(range);
  }
  return ok(ranges);
}

/** Both or neither: one without the other would leave the console's protection ambiguous. */
function accessConfig(
  team: string | undefined,
  audience: string | undefined,
): Result<AccessConfig | null, ConfigError> {
  if (team === undefined && audience === undefined) return ok(null);
  if (team === undefined || audience === undefined)
    return err({
      key: team === undefined ? "CF_ACCESS_TEAM_DOMAIN" : "CF_ACCESS_AUD",
      message: "required with the other one (CF_ACCESS_TEAM_DOMAIN and CF_ACCESS_AUD go together)",
    });
  const domain = team.replace(/^https:\/\//, "").replace(/\/+$/, "");
  if (!/^[a-z0-9-]+(\.[a-z0-9-]+)+$/i.test(domain))
    return err({ key: "CF_ACCESS_TEAM_DOMAIN", message: "not a host name such as myteam.cloudflareaccess.com" });
  return ok({ teamDomain: domain, audience });
}
