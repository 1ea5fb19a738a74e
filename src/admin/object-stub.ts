// The Durable Object of an object named in a URL, refused (404) unless its first part and kind can
// have one: PortOne's kinds, or a source's of WEBHOOK_SOURCES (named by the source). Any other name would only
// create an empty Durable Object.

import type { Context } from "hono";
import type { AppEnv } from "../env";
import { ledgerOf } from "../ledger/client";
import { objectNameOf } from "../providers/names";
import { httpError } from "../lib/http-errors";

const KNOWN_OBJECTS: Readonly<Record<string, readonly string[]>> = {
  portone: ["payment", "payment_link", "subscription_link"],
  // Each destination's test events (admin/destinations.ts), on an object named by the destination.
  gateway: ["test"],
};

export function stubFor(c: Context<AppEnv>, provider: string, kind: string, ref: string) {
  const configured = c.var.config.sources;
  const source = configured.ok ? configured.value.get(provider) : undefined;
  // A source's objects are named by the source: a generic one's kind is configured, a provider scheme's
  // comes from the payload (any safe name).
  const generic = source !== undefined && "kind" in source && source.kind === kind;
  const scheme = source !== undefined && !("kind" in source) && /^[a-z0-9_.-]{1,64}$/.test(kind);
  if (!KNOWN_OBJECTS[provider]?.includes(kind) && !generic && !scheme) {
    const sources = configured.ok
      ? [...configured.value.values()].map((src) => `${src.name}/${"kind" in src ? src.kind : "<kind>"}`)
      : [];
    const named = [`portone/<${KNOWN_OBJECTS.portone?.join("|")}>`, ...sources].join(", ");
    throw httpError(404, "unknown_object_kind", `Objects are named /objects/<provider>/<kind>/<ref>, with ${named}.`);
  }
  return ledgerOf(c.env, objectNameOf(provider, kind, ref));
}
