// Routes of the provider schemes: POST /webhooks/<scheme>/:source (so /webhooks/stripe/eu). The
// source is resolved as for the generic schemes (ingress/sources.ts); its scheme's module proves the
// request, and each proven item is recorded like any verified event. Adyen's batch is all or
// nothing at the signature (one bad item refuses it whole) and answered `[accepted]` once every
// item is stored, as Adyen requires; a storage failure on any item is a 503, so Adyen resends the
// batch and the items already stored answer duplicate.

import type { Context } from "hono";
import type { AppEnv } from "../env";
import { clock } from "../lib/clock";
import { sha256Hex } from "../lib/hmac";
import { stableStringify } from "../providers/event-id";
import { SCHEMES, schemeEvents } from "../providers/schemes";
import type { SchemeSource } from "../providers/sources/parse";
import { acceptEvent } from "./accept";
import { refuse } from "./rejections";

export async function recordSchemeWebhook(c: Context<AppEnv>): Promise<Response> {
  const source = c.var.source as SchemeSource;
  const scheme = SCHEMES[source.scheme];
  const raw = c.var.rawBody;
  const proven = await scheme.verify({
    raw,
    headers: c.req.raw.headers,
    secrets: source.secrets,
    toleranceSeconds: source.toleranceSeconds ?? 0,
    nowMs: clock.now(),
    url: source.notificationUrl ?? c.req.url,
  });
  const events = proven.ok ? await schemeEvents(source.scheme, source.name, proven.value, source.overrides) : proven;
  if (!events.ok) refuse(c, events.error, { source: source.name });
  if (source.scheme !== "adyen") {
    const [event] = events.value;
    if (event === undefined) throw new Error("a scheme proved no event"); // never: each proves one
    return c.json({ result: await acceptEvent(c, event, await sha256Hex(raw)) });
  }
  for (const event of events.value) {
    await acceptEvent(c, event, await sha256Hex(stableStringify({ data: event.data, unverified: event.unverified })));
  }
  return c.text("[accepted]");
}
