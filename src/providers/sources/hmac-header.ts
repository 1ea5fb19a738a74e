// A generic signed-header scheme of the kind many gateways use: an HMAC-SHA256 of
// `<timestamp>.<raw body>` (or of the raw body) in a header, hex or base64, with the timestamp in
// another header. Pure: body, headers, source and clock in; a typed result out.
// Gives up: a body-only scheme without a timestamp header has no replay window, so a captured
// request can be replayed; deduplication (the event id is a hash of the body) makes that harmless.

import { hmacKey, hmacSha256 } from "../../crypto/hmac";
import { eventIdOf } from "../event-id";
import type { VerifyResult } from "../types";
import type { HmacSource } from "./config";
import { parseTimestamp, reject, sourceEvent } from "./event";

const utf8 = new TextEncoder();

export async function verifyHmacHeader(
  raw: string,
  headers: Headers,
  source: HmacSource,
  nowMs: number,
): Promise<VerifyResult> {
  const given = headers.get(source.signatureHeader);
  if (given === null || given.trim() === "")
    return reject("missing_signature", `${source.signatureHeader} header is missing`);
  const stampHeader = source.timestampHeader === null ? undefined : (headers.get(source.timestampHeader) ?? undefined);
  const timestamp = parseTimestamp(stampHeader);
  if (source.message === "timestamp.body" || stampHeader !== undefined) {
    if (timestamp === null)
      return reject("missing_timestamp", `${source.timestampHeader} header is missing or not whole seconds`);
    if (Math.abs(nowMs / 1000 - timestamp) > source.toleranceSeconds) {
      return reject("stale_timestamp", `timestamp ${timestamp} is more than ${source.toleranceSeconds} s from now`);
    }
  }
  const message = source.message === "timestamp.body" ? `${timestamp}.${raw}` : raw;
  const expected = decodeSignature(given.trim(), source);
  if (expected === null) return reject("bad_signature", `${source.signatureHeader} is not ${source.encoding}`);
  let matched = false;
  for (const secret of source.secrets) {
    const mac = await hmacSha256(await hmacKey(`src:${source.name}:${secret}`, () => utf8.encode(secret)), message);
    if (mac.byteLength === expected.byteLength && crypto.subtle.timingSafeEqual(mac, expected)) matched = true;
  }
  if (!matched) return reject("bad_signature", `no secret of source ${source.name} signs this request`);
  return sourceEvent(raw, source, await eventIdOf(source.name, source.kind, raw));
}

function decodeSignature(value: string, source: HmacSource): Uint8Array | null {
  const text =
    source.signaturePrefix && value.startsWith(source.signaturePrefix)
      ? value.slice(source.signaturePrefix.length)
      : value;
  if (source.encoding === "hex") {
    if (!/^([0-9a-fA-F]{2})+$/.test(text)) return null;
    return Uint8Array.from(text.match(/../g) ?? [], (h) => parseInt(h, 16));
  }
  try {
    return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}
