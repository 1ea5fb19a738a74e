// The one shape of every route under /webhooks/ (after require-config.ts): POST /webhooks/<provider>/<name>
// is resolved before its body is read (an unknown PortOne kind is 400, an unknown source 404, an unknown
// provider no route), its body read within the limit (413 as soon as the limit is crossed, without
// buffering the rest), then proven by the route's verifier; one handler (record.ts) records what it
// proved. A rejection is logged with its rich reason and answered with its public error; nothing of it
// is stored. PortOne's verifiers are here: each signed kind's body against every configured key, and the
// refund webhook, which carries no signature (spec §4.4), only shape-checked and kept as a hint that the
// refunded payment's ledger confirms with PortOne's API. The sources' verifiers are in sources.ts.

import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "../env";
import { hmacKeyFromText } from "../lib/hmac";
import { httpError, notFound } from "../lib/http-errors";
import { MAX_BODY_BYTES, MAX_DISCARD_BYTES } from "../lib/limits";
import { log } from "../lib/log";
import { ok, type Result } from "../lib/result";
import { eventIdOf } from "../providers/event-id";
import { isSchemeName, objectNameOf } from "../providers/names";
import { SIGNED_KINDS } from "../providers/portone/kinds";
import { parseRefundHint, refundHintIdentity } from "../providers/portone/refund";
import { verifyPortOne } from "../providers/portone/verify";
import type { Hint, Proven, Verify } from "../providers/proven";
import type { Rejection } from "../providers/types";
import { refuse } from "./rejections";
import { sourceVerifier } from "./sources";

export function verifyWebhook(): MiddlewareHandler<AppEnv> {
  return async function verifyWebhookRequest(c, next) {
    const [provider, name, token] = [c.req.param("provider") ?? "", c.req.param("name") ?? "", c.req.param("token")];
    const verify =
      provider === "portone" && token === undefined
        ? portOneVerifier(c, name)
        : provider === "hmac" || provider === "standard" || isSchemeName(provider)
          ? sourceVerifier(c, provider, name, token ?? null)
          : null;
    if (verify === null) return notFound(c);
    const body = await boundedBody(c, MAX_BODY_BYTES);
    c.set("body", body);
    const proven = await verify(new TextDecoder().decode(body));
    if (!proven.ok) refuse(c, proven.error, { provider, name });
    c.set("proven", proven.value);
    await next();
  };
}

/** PortOne's verifier for the route's kind (require-config.ts saw a secret configured). */
function portOneVerifier(c: Context<AppEnv>, name: string): Verify {
  if (name === "refund") return refundHintOf;
  const kind = SIGNED_KINDS.get(name);
  if (kind === undefined) {
    throw httpError(
      400,
      "unknown_kind",
      "Unknown PortOne webhook kind; use payment, payment-link, subscription-link or refund.",
    );
  }
  return async (raw) => {
    const keys = await Promise.all(c.var.config.portone.secrets.map(hmacKeyFromText));
    const verdict = await verifyPortOne(raw, kind, keys);
    return verdict.ok ? ok({ items: [{ event: verdict.value, content: raw }], answer: null }) : verdict;
  };
}

/** PortOne's refund webhook as a hint, kept in the refunded payment's object. */
async function refundHintOf(raw: string): Promise<Result<Proven, Rejection>> {
  const parsed = parseRefundHint(raw);
  if (!parsed.ok) return parsed;
  const refund = parsed.value;
  if ("signature_hash" in refund.payload) {
    // PortOne documents no refund signature; if one appears its signed fields are unknown (§4.4).
    log("warn", "refund webhook carries a signature_hash; its scheme is unknown, so it is ignored", {
      refund_id: refund.refundId,
    });
  }
  const hint: Hint = {
    objectName: objectNameOf("portone", "payment", refund.paymentTxnRef),
    confirmer: "portone-refund",
    subject: refund.refundId,
    parentRef: refund.paymentTxnRef,
    claimed: refund.status,
    eventId: await eventIdOf("portone", "refund_hint", refundHintIdentity(refund)),
    payload: refund.payload,
  };
  return ok({ items: [{ hint }], answer: null });
}

/** The request's body, refused (413) as soon as it crosses `maxBytes`. Verification reads it as text
 *  (invalid UTF-8 becomes U+FFFD, as Go's JSON decoder reads it); `original` keeps its exact bytes. */
async function boundedBody(c: Context<AppEnv>, maxBytes: number): Promise<Uint8Array> {
  const tooLarge = () => httpError(413, "payload_too_large", `The body is larger than ${maxBytes} bytes.`);
  const declared = c.req.header("content-length");
  if (declared !== undefined && Number(declared) > maxBytes) throw tooLarge();
  const bytes = await readAtMost(c.req.raw.body, maxBytes);
  if (bytes === null) throw tooLarge();
  return bytes;
}

/** The stream's bytes, or null as soon as more than `limit` bytes arrive. */
async function readAtMost(body: ReadableStream<Uint8Array> | null, limit: number): Promise<Uint8Array | null> {
  if (body === null) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await discardRest(reader, total);
      return null;
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/**
 * Reads and drops what is left of an oversized body, up to MAX_DISCARD_BYTES, then cancels.
 * Answering before the body is consumed breaks the connection under wrangler dev (its proxy fails
 * the next request with 503); discarding keeps memory bounded, and the cap bounds the time an
 * endless stream can hold the request.
 */
async function discardRest(reader: ReadableStreamDefaultReader<Uint8Array>, alreadyRead: number): Promise<void> {
  let read = alreadyRead;
  while (read <= MAX_DISCARD_BYTES) {
    const { done, value } = await reader.read();
    if (done) return;
    read += value.byteLength;
  }
  await reader.cancel();
}
