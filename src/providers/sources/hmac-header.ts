// A generic signed-header scheme of the kind many gateways use: an HMAC-SHA256 (or SHA-512, the source's
// `algorithm`) of `<timestamp>.<raw body>` (or of the raw body) in a header, hex or base64, the timestamp
// in seconds or milliseconds (`timestampUnit`). Pure: body, headers, source and clock in; a typed result out.
// The replay window comes from a signed timestamp only: the timestamp header when it is part of
// the signed message, or a field of the signed body (`timestampPath`, as in
// {"event": "payment.confirmed", "timestamp": 1705320600, …}). Gives up: a body-only signature
// without a timestamp field has no replay window, so a captured request can be replayed any time;
// deduplication (the event id is a hash of the body) is then what makes a replay harmless.

import { anyMatch, hmacKey, hmacSign, timingSafeEqualBytes } from "../../lib/hmac";
import { eventIdOf } from "../event-id";
import { reject, type VerifyResult } from "../types";
import type { HmacSource } from "./parse";
import { scalarAt } from "../json-scan";
import { parseTimestamp, sourceEvent } from "./event";

const utf8 = new TextEncoder();
const HASHES = { sha256: "SHA-256", sha512: "SHA-512" } as const;

export async function verifyHmacHeader(
  raw: string,
  headers: Headers,
  source: HmacSource,
  nowMs: number,
): Promise<VerifyResult> {
  const given = headers.get(source.signatureHeader);
  if (given === null || given.trim() === "")
    return reject("missing_signature", `${source.signatureHeader} header is missing`);
  let message = raw;
  if (source.message === "timestamp.body") {
    const timestamp = parseTimestamp(headers.get(source.timestampHeader ?? "") ?? undefined, source.timestampUnit);
    const late = checkTimestamp(timestamp, source, nowMs, `${source.timestampHeader} header`);
    if (late) return late;
    message = `${timestamp}.${raw}`;
  }
  const expected = decodeSignature(given.trim(), source);
  if (expected === null) return reject("bad_signature", `${source.signatureHeader} is not ${source.encoding}`);
  const signs = async (secret: string): Promise<boolean> => {
    const key = await hmacKey(`src:${source.name}:${secret}`, () => utf8.encode(secret), HASHES[source.algorithm]);
    const mac = await hmacSign(key, message);
    return timingSafeEqualBytes(mac, expected);
  };
  if (!(await anyMatch(source.secrets, signs)))
    return reject("bad_signature", `no secret of source ${source.name} signs this request`);
  const verdict = sourceEvent(raw, source, await eventIdOf(source.name, source.kind, raw));
  if (!verdict.ok || source.timestampPath === null) return verdict;
  const stamp = scalarAt(verdict.value.data, source.timestampPath);
  const at = parseTimestamp(stamp ?? undefined, source.timestampUnit);
  return checkTimestamp(at, source, nowMs, `${source.timestampPath} field`) ?? verdict;
}

/** A rejection when the signed timestamp is missing or outside the tolerance; null when it is fine. */
function checkTimestamp(
  timestamp: number | null,
  source: HmacSource,
  nowMs: number,
  where: string,
): VerifyResult | null {
  const unit = source.timestampUnit === "ms" ? "milliseconds" : "whole seconds";
  if (timestamp === null) return reject("missing_timestamp", `${where} is missing or not ${unit}`);
  const ageMs = nowMs - (source.timestampUnit === "ms" ? timestamp : timestamp * 1000);
  if (Math.abs(ageMs) > source.toleranceSeconds * 1000) {
    return reject("stale_timestamp", `timestamp ${timestamp} is more than ${source.toleranceSeconds} s from now`);
  }
  return null;
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
