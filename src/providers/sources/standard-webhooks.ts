// Standard Webhooks inbound (standardwebhooks.com): webhook-id, webhook-timestamp and
// webhook-signature, a space-separated list of "v1,<base64 HMAC-SHA256 of id.timestamp.body>" so
// senders can rotate secrets. The timestamp must be within the source's tolerance; webhook-id is
// the idempotency key (the event id is derived from it).

import { timingSafeEqualText } from "../../lib/hmac";
import { parseStandardSecret, standardSignature, standardWebhookKey } from "../../lib/standard-webhooks";
import { eventIdOf } from "../event-id";
import { reject, type VerifyResult } from "../types";
import type { StandardSource } from "./parse";
import { parseTimestamp, sourceEvent } from "./event";

export async function verifyStandardWebhook(
  raw: string,
  headers: Headers,
  source: StandardSource,
  nowMs: number,
): Promise<VerifyResult> {
  const id = headers.get("webhook-id");
  const signatures = headers.get("webhook-signature");
  if (!id || !signatures) return reject("missing_signature", "webhook-id or webhook-signature header is missing");
  const timestamp = parseTimestamp(headers.get("webhook-timestamp") ?? undefined);
  if (timestamp === null) return reject("missing_timestamp", "webhook-timestamp is missing or not whole seconds");
  if (Math.abs(nowMs / 1000 - timestamp) > source.toleranceSeconds) {
    return reject("stale_timestamp", `timestamp ${timestamp} is more than ${source.toleranceSeconds} s from now`);
  }
  const offered = signatures
    .split(" ")
    .filter((s) => s.startsWith("v1,"))
    .map((s) => s.slice(3));
  let matched = false;
  for (const secret of source.secrets) {
    const bytes = parseStandardSecret(secret);
    if (bytes === null) continue; // never: the configuration refuses such a secret
    const key = await standardWebhookKey(bytes);
    const expected = await standardSignature(key, id, timestamp, raw);
    for (const candidate of offered) if (timingSafeEqualText(expected, candidate)) matched = true;
  }
  if (!matched) return reject("bad_signature", `no v1 signature matches a secret of source ${source.name}`);
  return sourceEvent(raw, source, await eventIdOf(source.name, source.kind, { "webhook-id": id }));
}
