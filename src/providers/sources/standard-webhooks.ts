// Standard Webhooks inbound (standardwebhooks.com), verified by the one verifier the gateway signs
// with (lib/standard-webhooks.ts): webhook-id, webhook-timestamp within the source's tolerance, and
// webhook-signature matching one of the source's secrets (several, so senders can rotate).
// webhook-id is the idempotency key (the event id is derived from it).

import { parseStandardSecret, standardWebhookKey, verifyStandardHeaders } from "../../lib/standard-webhooks";
import { eventIdOf } from "../event-id";
import type { VerifyResult } from "../types";
import type { StandardSource } from "./parse";
import { sourceEvent } from "./event";

export async function verifyStandardWebhook(
  raw: string,
  headers: Headers,
  source: StandardSource,
  nowMs: number,
): Promise<VerifyResult> {
  // Every secret parses: the configuration refuses one that does not.
  const secrets = source.secrets.map(parseStandardSecret).filter((bytes) => bytes !== null);
  const keys = await Promise.all(secrets.map(standardWebhookKey));
  const proven = await verifyStandardHeaders(headers, raw, keys, source.toleranceSeconds, nowMs);
  if (!proven.ok) return proven;
  return sourceEvent(raw, source, await eventIdOf(source.name, source.kind, { "webhook-id": proven.value.id }));
}
