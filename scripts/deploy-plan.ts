// What `npm run deploy` decides, apart from what it runs (scripts/deploy.ts): the names of the Worker and
// its resources, which inputs it refuses, which secrets go up with the Worker, and the configuration
// wrangler is given. Pure, so the suite checks it in workerd as it checks the Worker.

import { outboundUrl } from "../src/lib/outbound.ts";
import { EXAMPLE_SECRETS } from "../src/config/example-secrets.ts";
import { secretsOf } from "../src/config/examples.ts";

/** The Worker and the resources `npm run deploy` finds or creates, by name. */
export interface Target {
  readonly worker: string;
  readonly kv: string;
  readonly d1: string;
  /** The wrangler environment (`--env`), or null for the top level. */
  readonly env: string | null;
}

export function targetOf(base: string, env: string | null): Target {
  const worker = env === null ? base : `${base}-${env}`;
  return { worker, kv: `${worker}-seen`, d1: `${worker}-read-model`, env };
}

/** The inputs, in the order they are asked for. */
export const INPUTS = [
  {
    name: "PORTONE_SECRET_KEY",
    required: true,
    secret: true,
    hint: "PortOne's Admin Console > Settings > API > Secret Key",
  },
  {
    name: "PORTONE_KEY",
    required: false,
    secret: true,
    hint: "the PortOne Key next to it (refund confirmation, reconciliation)",
  },
  {
    name: "MERCHANT_ORIGIN_URL",
    required: false,
    secret: false,
    hint: "https://… where verified events are forwarded",
  },
] as const;

export type InputName = (typeof INPUTS)[number]["name"];

/** Why an input may not go to production (null: it may): a value published in .dev.vars.example, or an
 *  origin that is not https (a loopback URL works only on the machine that runs `npm run dev`). */
export function refusal(name: InputName, value: string): string | null {
  const published = new Set(EXAMPLE_SECRETS);
  if (secretsOf(name, value).some((secret) => published.has(secret)) || value.trim() === "local-portone-key")
    return `${name} is a value published in .dev.vars.example: use your own (${hintOf(name)})`;
  if (name === "MERCHANT_ORIGIN_URL") {
    const url = outboundUrl(value.trim());
    if (url === null || !url.startsWith("https:"))
      return "MERCHANT_ORIGIN_URL must be an absolute https URL (a loopback address works only locally)";
  }
  return null;
}

const hintOf = (name: InputName): string => INPUTS.find((i) => i.name === name)?.hint ?? name;

/** A Standard Webhooks secret: whsec_ + base64 of 32 random bytes. */
export function newForwardingSecret(random: (n: number) => Uint8Array): string {
  return `whsec_${btoa(String.fromCharCode(...random(32)))}`;
}

/** An admin token: 32 random bytes, URL-safe base64 (no padding). */
export function newAdminToken(random: (n: number) => Uint8Array): string {
  return btoa(String.fromCharCode(...random(32)))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

/** The secrets that go up with this deploy: the inputs given (again), and FORWARD_SIGNING_SECRET and
 *  ADMIN_TOKEN when the Worker lacks them (never replacing one it has). */
export function secretsToUpload(
  inputs: Partial<Record<InputName, string>>,
  existing: ReadonlySet<string>,
  random: (n: number) => Uint8Array,
): { readonly upload: Record<string, string>; readonly generated: readonly string[] } {
  const upload: Record<string, string> = {};
  for (const [name, value] of Object.entries(inputs))
    if (value !== undefined && value.trim() !== "") upload[name] = value.trim();
  const generated: string[] = [];
  if (!existing.has("FORWARD_SIGNING_SECRET")) {
    upload.FORWARD_SIGNING_SECRET = newForwardingSecret(random);
    generated.push("FORWARD_SIGNING_SECRET");
  }
  if (!existing.has("ADMIN_TOKEN")) {
    upload.ADMIN_TOKEN = newAdminToken(random);
    generated.push("ADMIN_TOKEN");
  }
  return { upload, generated };
}

/** The bindings of one section of a wrangler configuration (the top level or an environment), as far as
 *  the deploy touches them. */
export interface Section {
  kv_namespaces?: Array<{ binding: string; id?: string }>;
  d1_databases?: Array<{ binding: string; database_name: string; database_id?: string; migrations_dir?: string }>;
  [key: string]: unknown;
}

/** A wrangler configuration as parsed from wrangler.toml. */
export interface WranglerConfig extends Section {
  name: string;
  main: string;
  env?: Record<string, Section>;
}

/** The configuration wrangler deploys with: wrangler.toml's, its paths made relative to `fromDir` (where
 *  the generated file is written), and the target's KV and D1 bound by id. */
export function deployConfig(
  config: WranglerConfig,
  target: Target,
  ids: { readonly kv: string; readonly d1: string },
  relative: (path: string) => string,
): WranglerConfig {
  const copy = JSON.parse(JSON.stringify(config)) as WranglerConfig;
  copy.main = relative(config.main);
  const section = target.env === null ? copy : copy.env?.[target.env];
  if (section === undefined) throw new Error(`wrangler.toml has no [env.${target.env}] section`);
  section.kv_namespaces = (section.kv_namespaces ?? []).map((kv) =>
    kv.binding === "SEEN" ? { ...kv, id: ids.kv } : kv,
  );
  for (const part of [copy, ...Object.values(copy.env ?? {})])
    part.d1_databases = (part.d1_databases ?? []).map((d1) => ({
      ...d1,
      ...(d1.migrations_dir === undefined ? {} : { migrations_dir: relative(d1.migrations_dir) }),
    }));
  section.d1_databases = (section.d1_databases ?? []).map((d1) =>
    d1.binding === "READ_MODEL" ? { ...d1, database_name: target.d1, database_id: ids.d1 } : d1,
  );
  return copy;
}

/** The URLs to register in PortOne (Settings > Webhooks), one per webhook type, and the console's. */
export function gatewayUrls(base: string): { readonly webhooks: readonly string[]; readonly console: string } {
  const root = base.replace(/\/+$/, "");
  return {
    webhooks: ["payment", "payment-link", "subscription-link", "refund"].map(
      (kind) => `${root}/webhooks/portone/${kind}`,
    ),
    console: `${root}/console`,
  };
}
