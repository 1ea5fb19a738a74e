// WEBHOOK_SOURCES: the generic sources beside PortOne, as one JSON object (set it with
// `wrangler secret put WEBHOOK_SOURCES`: it holds secrets). Parsed and validated once per
// environment by config/ (loadConfig); an invalid configuration names the bad key and fails closed (503) for
// these routes only. Each source says how to verify it and where its object reference and status
// are in the payload, so its events are deduplicated, serialized and forwarded like PortOne's.

import type { ConfigError } from "../../lib/config-error";
import { isRecord, parseNamedJson } from "../../lib/named-json";
import { err, ok, type Result } from "../../lib/result";
import { MIN_SECRET_BYTES, parseStandardSecret } from "../../lib/standard-webhooks";
import type { Lifecycle } from "../types";
import { isSchemeName, SCHEME_NAMES, type SchemeName } from "../names";
import { SCHEMES, type SchemeOverrides } from "../schemes";
import { MIDTRANS_API } from "../schemes/midtrans";
import type { SchemeConfig, SchemeOptions } from "../schemes/scheme";
import { outboundUrl } from "../../lib/outbound";
import { parseCertificate } from "../../lib/x509";

interface SourceBase {
  readonly name: string;
  /** Kind name in the forwarded envelope (<source>.<kind>.<status>); default "event". */
  readonly kind: string;
  /** Dot path to the object reference in the JSON body, e.g. "data.order_id". */
  readonly objectRef: string;
  /** Dot path to the status, e.g. "type" or "data.status". */
  readonly status: string;
  /** Seconds a signed timestamp may differ from now. Never 0: a zero would disable the check. */
  readonly toleranceSeconds: number;
  readonly lifecycle: Lifecycle;
}

export interface HmacSource extends SourceBase {
  readonly scheme: "hmac";
  readonly secrets: readonly string[];
  readonly signatureHeader: string;
  /** Removed from the header value before decoding, e.g. "sha256=". */
  readonly signaturePrefix: string;
  readonly encoding: "hex" | "base64";
  /** What is signed: `<timestamp>.<raw body>` or the raw body alone. */
  readonly message: "timestamp.body" | "body";
  /** The header carrying the signed timestamp; with `message` "timestamp.body" only. */
  readonly timestampHeader: string | null;
  /** Dot path to a timestamp inside the signed body; with `message` "body" only.
   *  Without it a body-only signature has no replay window. */
  readonly timestampPath: string | null;
  /** The timestamp's unit, in the header or at timestampPath: seconds (default) or milliseconds. */
  readonly timestampUnit: "s" | "ms";
  /** The HMAC's hash: SHA-256 (default) or SHA-512. */
  readonly algorithm: "sha256" | "sha512";
}

export interface StandardSource extends SourceBase {
  readonly scheme: "standard";
  /** whsec_ secrets; several during a rotation. */
  readonly secrets: readonly string[];
}

/** A provider scheme: the provider's rules built in, the merchant gives the secret. */
export interface SchemeSource {
  readonly name: string;
  readonly scheme: SchemeName;
  readonly secrets: readonly string[];
  /** The scheme's replay window or the source's override; null when the scheme signs no timestamp. */
  readonly toleranceSeconds: number | null;
  /** Square: the notification URL exactly as registered (signed with the body). */
  readonly notificationUrl: string | null;
  /** What the scheme takes beyond its secrets (PayMongo's mode, FPX's certificates, an API's URL and key). */
  readonly options: SchemeOptions;
  readonly overrides: SchemeOverrides;
}

/** The generic schemes, whose source says where the object and status are. */
export type GenericSource = HmacSource | StandardSource;
export type Source = GenericSource | SchemeSource;
/** The sources by name, or why the configuration is refused (naming the bad key). */
export type SourcesConfig = Result<ReadonlyMap<string, Source>, ConfigError>;

export const DEFAULT_TOLERANCE_SECONDS = 300;
const NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const HEADER = /^[A-Za-z0-9-]{1,64}$/;
const PATH = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;
/** Names of objects' first parts the gateway uses itself: a source may not take one. */
const RESERVED = new Set(["portone", "gateway"]);

export function parseSources(raw: string): SourcesConfig {
  if (raw.trim() === "") return ok(new Map());
  const parsed = parseNamedJson("WEBHOOK_SOURCES", raw, (name, value) => {
    const source = parseSource(name, value);
    return source.ok ? source : err({ message: source.error });
  });
  return parsed.ok ? ok(new Map(parsed.value)) : parsed;
}

/** Each step gives its value, or the message for `WEBHOOK_SOURCES.<name>: <message>`. */
type Parsed<T> = Result<T, string>;

function parseSource(name: string, value: unknown): Parsed<Source> {
  if (!NAME.test(name) || RESERVED.has(name))
    return err("a source name is lower-case letters, digits, - and _, and neither 'portone' nor 'gateway'");
  if (!isRecord(value)) return err("must be an object");
  if (isSchemeName(value.scheme)) return parseSchemeSource(name, value.scheme, value);
  // A generic source's events are named after it: a scheme's name would read as that provider's.
  if ((SCHEME_NAMES as readonly string[]).includes(name))
    return err(`a generic source may not be named after a provider scheme (${SCHEME_NAMES.join(", ")})`);
  const base = parseBase(name, value);
  if (!base.ok) return base;
  if (value.scheme === "standard") {
    const secrets = secretList(value);
    if (!secrets.ok) return secrets;
    if (!secrets.value.every((s) => s.startsWith("whsec_") && parseStandardSecret(s) !== null))
      return err(`secret: each must be whsec_ + base64 of at least ${MIN_SECRET_BYTES} bytes`);
    return ok({ ...base.value, scheme: "standard", secrets: secrets.value });
  }
  if (value.scheme === "hmac") return parseHmac(base.value, value);
  return err(`scheme: must be "hmac", "standard" or a provider scheme (${SCHEME_NAMES.join(", ")})`);
}

function parseSchemeSource(name: string, scheme: SchemeName, v: Record<string, unknown>): Parsed<SchemeSource> {
  const rules = SCHEMES[scheme].config ?? {};
  const secrets = schemeSecrets(v, rules.secret);
  if (!secrets.ok) return secrets;
  for (const field of ["objectRef", "status"] as const) {
    const path = v[field];
    if (path !== undefined && (typeof path !== "string" || !PATH.test(path)))
      return err(`${field}: a dot path such as "data.id"`);
  }
  const kind = v.kind ?? null;
  if (kind !== null && (typeof kind !== "string" || !NAME.test(kind)))
    return err("kind: lower-case letters, digits, - and _");
  const tolerance = toleranceOf(v, SCHEMES[scheme].toleranceSeconds);
  if (!tolerance.ok) return tolerance;
  const url = v.notificationUrl ?? null;
  if (url !== null && (typeof url !== "string" || !URL.canParse(url))) return err("notificationUrl: an absolute URL");
  const options = parseOptions(scheme, v);
  if (!options.ok) return options;
  const lifecycle =
    v.lifecycle === undefined && SCHEMES[scheme].lifecycle
      ? ok(SCHEMES[scheme].lifecycle)
      : parseLifecycle(v.lifecycle);
  if (!lifecycle.ok) return lifecycle;
  return ok({
    name,
    scheme,
    secrets: secrets.value,
    toleranceSeconds: tolerance.value,
    notificationUrl: url,
    options: options.value,
    overrides: {
      objectRef: typeof v.objectRef === "string" ? v.objectRef : null,
      status: typeof v.status === "string" ? v.status : null,
      kind,
      lifecycle: lifecycle.value,
    },
  });
}

/** A provider scheme's secrets: any non-empty ones, of the form the scheme gives them where it has one;
 *  none for a scheme that takes no secret (FPX proves with a certificate). */
function schemeSecrets(v: Record<string, unknown>, rule: SchemeConfig["secret"]): Parsed<string[]> {
  if (rule === "none") {
    return v.secret === undefined && v.secrets === undefined ? ok([]) : err("secret: this scheme takes none");
  }
  if (rule === undefined) return secretList(v, (secret) => secret.trim() !== "", "non-empty string");
  return secretList(v, (secret) => secret.trim() !== "" && rule.valid(secret), rule.what);
}

/** The options the scheme takes (refusing any it does not), each checked, the required ones present. */
function parseOptions(scheme: SchemeName, v: Record<string, unknown>): Parsed<SchemeOptions> {
  const { options: takes = [], required = [] } = SCHEMES[scheme].config ?? {};
  const given = (["mode", "certificates", "apiBaseUrl", "apiKey"] as const).filter(
    (o) => v[o] !== undefined || (o === "certificates" && v.certificate !== undefined),
  );
  const foreign = given.find((o) => !takes.includes(o));
  if (foreign !== undefined) return err(`${foreign}: the ${scheme} scheme takes no ${foreign}`);
  const missing = required.find((o) => !given.includes(o));
  if (missing !== undefined)
    return err(`${missing === "certificates" ? "certificate" : missing}: required for ${scheme}`);
  const mode = v.mode ?? "live";
  if (mode !== "live" && mode !== "test") return err('mode: "live" (the default) or "test"');
  const pems = v.certificates ?? (v.certificate === undefined ? [] : [v.certificate]);
  const certificates = Array.isArray(pems)
    ? pems.map((p) => (typeof p === "string" ? parseCertificate(p) : null))
    : [null];
  if (certificates.includes(null)) return err("certificate (or certificates): PEM X.509 certificates");
  const apiBaseUrl =
    v.apiBaseUrl === undefined
      ? scheme === "midtrans"
        ? MIDTRANS_API
        : null
      : outboundUrl(typeof v.apiBaseUrl === "string" ? v.apiBaseUrl : undefined);
  if (v.apiBaseUrl !== undefined && apiBaseUrl === null)
    return err("apiBaseUrl: an absolute https URL (http only to a loopback host)");
  const apiKey = v.apiKey ?? null;
  if (apiKey !== null && (typeof apiKey !== "string" || apiKey.trim() === "")) return err("apiKey: a non-empty string");
  return ok({
    mode,
    certificates: certificates.filter((c) => c !== null),
    apiBaseUrl: apiBaseUrl?.replace(/\/+$/, "") ?? null,
    apiKey,
  });
}

function parseBase(name: string, v: Record<string, unknown>): Parsed<SourceBase> {
  const kind = v.kind ?? "event";
  if (typeof kind !== "string" || !NAME.test(kind)) return err("kind: lower-case letters, digits, - and _");
  for (const field of ["objectRef", "status"] as const) {
    if (typeof v[field] !== "string" || !PATH.test(v[field])) return err(`${field}: a dot path such as "data.id"`);
  }
  const tolerance = toleranceOf(v, DEFAULT_TOLERANCE_SECONDS);
  if (!tolerance.ok) return tolerance;
  const lifecycle = parseLifecycle(v.lifecycle);
  if (!lifecycle.ok) return lifecycle;
  return ok({
    name,
    kind,
    objectRef: v.objectRef as string,
    status: v.status as string,
    toleranceSeconds: tolerance.value ?? DEFAULT_TOLERANCE_SECONDS,
    lifecycle: lifecycle.value,
  });
}

function parseHmac(base: SourceBase, v: Record<string, unknown>): Parsed<HmacSource> {
  const secrets = secretList(v);
  if (!secrets.ok) return secrets;
  const signatureHeader = v.signatureHeader ?? "x-signature";
  if (typeof signatureHeader !== "string" || !HEADER.test(signatureHeader))
    return err("signatureHeader: a header name");
  const timestampHeader = v.timestampHeader ?? null;
  if (timestampHeader !== null && (typeof timestampHeader !== "string" || !HEADER.test(timestampHeader)))
    return err("timestampHeader: a header name");
  const message = v.message ?? "timestamp.body";
  if (message !== "timestamp.body" && message !== "body") return err('message: "timestamp.body" or "body"');
  if (message === "timestamp.body" && timestampHeader === null)
    return err('timestampHeader: required when message is "timestamp.body"');
  if (message === "body" && timestampHeader !== null)
    return err(
      'timestampHeader: only with message "timestamp.body"; a body-only signature does not cover a header, so checking it protects nothing (use timestampPath for a timestamp inside the signed body)',
    );
  const timestampPath = v.timestampPath ?? null;
  if (timestampPath !== null && (typeof timestampPath !== "string" || !PATH.test(timestampPath)))
    return err('timestampPath: a dot path such as "timestamp"');
  if (timestampPath !== null && message !== "body")
    return err('timestampPath: only with message "body" (with "timestamp.body" the signed timestamp is the header)');
  const encoding = v.encoding ?? "hex";
  if (encoding !== "hex" && encoding !== "base64") return err('encoding: "hex" or "base64"');
  const signaturePrefix = v.signaturePrefix ?? "";
  if (typeof signaturePrefix !== "string" || signaturePrefix.length > 16)
    return err('signaturePrefix: a short string such as "sha256="');
  const timestampUnit = v.timestampUnit ?? "s";
  if (timestampUnit !== "s" && timestampUnit !== "ms") return err('timestampUnit: "s" (the default) or "ms"');
  const algorithm = v.algorithm ?? "sha256";
  if (algorithm !== "sha256" && algorithm !== "sha512") return err('algorithm: "sha256" (the default) or "sha512"');
  return ok({
    ...base,
    scheme: "hmac",
    secrets: secrets.value,
    signatureHeader: signatureHeader.toLowerCase(),
    signaturePrefix,
    encoding,
    message,
    timestampHeader: timestampHeader === null ? null : timestampHeader.toLowerCase(),
    timestampPath,
    timestampUnit,
    algorithm,
  });
}

function secretList(
  v: Record<string, unknown>,
  accepts = (secret: string) => secret.length >= 16,
  what = "string of 16 or more characters",
): Parsed<string[]> {
  const list = v.secrets ?? (v.secret === undefined ? undefined : [v.secret]);
  if (!Array.isArray(list) || list.length === 0 || !list.every((s) => typeof s === "string" && accepts(s))) {
    return err(`secret (or secrets): at least one ${what}`);
  }
  return ok(list as string[]);
}

/** `toleranceSeconds`, or the fallback when it is not set (null: the scheme signs no timestamp). */
function toleranceOf(v: Record<string, unknown>, fallback: number | null): Parsed<number | null> {
  const tolerance = v.toleranceSeconds ?? fallback;
  if (
    tolerance !== null &&
    (typeof tolerance !== "number" || !Number.isInteger(tolerance) || tolerance <= 0 || tolerance > 3600)
  )
    return err("toleranceSeconds: a whole number of seconds from 1 to 3600 (0 would disable the check)");
  return ok(tolerance);
}

function parseLifecycle(v: unknown): Parsed<Lifecycle> {
  if (v === undefined) return ok({ ranks: {}, terminal: [] });
  if (!isRecord(v)) return err('lifecycle: { "order": [statuses…], "terminal": [statuses…] }');
  const order = v.order ?? [];
  const terminal = v.terminal ?? [];
  if (!Array.isArray(order) || !order.every((s) => typeof s === "string"))
    return err("lifecycle.order: a list of statuses");
  if (!Array.isArray(terminal) || !terminal.every((s) => typeof s === "string"))
    return err("lifecycle.terminal: a list of statuses");
  const ranks = Object.fromEntries(order.map((s, i) => [s.toLowerCase(), i]));
  return ok({ ranks, terminal: terminal.map((s) => s.toLowerCase()) });
}
