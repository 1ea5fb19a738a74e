// PortOne webhook verification (spec §2.2, §9). Pure: the body, the kind and the keys come in,
// a typed result goes out; nothing here logs, stores or routes.
// Assumes: the body is already bounded by the HTTP layer. Gives up: PortOne sends no timestamp or
// nonce, so a captured genuine body can be replayed, with or without unsigned fields added; the
// event's identity covers only the signed fields (signed-content.ts), so a replay is a duplicate,
// and the ledger's "never move a finished object backwards" rule makes a late one harmless.

import { anyMatch, hmacSign, timingSafeEqualText, toBase64 } from "../../lib/hmac";
import { parseJsonObject } from "../json-scan";
import { ok, type Result } from "../../lib/result";
import { positionOf, reject, type Rejection, type VerifyResult } from "../types";
import { encodePairs, formatAmount } from "./encode";
import type { PortOneKind } from "./kinds";
import { signedEventId, splitSigned } from "./signed-content";

/** 32 bytes of HMAC-SHA256 in padded standard base64. */
const SIGNATURE_LENGTH = 44;

type Payload = Record<string, unknown>;

export async function verifyPortOne(raw: string, kind: PortOneKind, keys: readonly CryptoKey[]): Promise<VerifyResult> {
  const parsed = parseObject(raw, kind);
  if (!parsed.ok) return parsed;
  const payload = parsed.value;
  const canonical = canonicalMessage(payload, kind);
  if (!canonical.ok) return canonical;

  const signature = payload.signature_hash;
  if (typeof signature !== "string" || signature === "") {
    return reject("missing_signature", "signature_hash is missing or not a string");
  }
  if (!(await anyKeyMatches(keys, canonical.value, signature))) {
    return reject("bad_signature", `no configured key signs the canonical message ${canonical.value}`);
  }

  const objectRef = payload[kind.objectRefField];
  if (typeof objectRef !== "string" || objectRef === "") {
    return reject("missing_object_ref", `${kind.objectRefField} is empty`);
  }
  const status = payload.status;
  if (typeof status !== "string" || status === "") return reject("missing_status", "status is empty");

  const { data, unverified } = splitSigned(payload, kind);
  return ok({
    provider: "portone",
    kind: kind.kind,
    objectRef,
    status,
    position: positionOf(kind.lifecycle, status),
    eventId: await signedEventId(kind, canonical.value),
    data,
    unverified,
  });
}

/** JSON object only; no key read for signing may appear twice or in another letter case (§9.6). */
function parseObject(raw: string, kind: PortOneKind): Result<Payload, Rejection> {
  const parsed = parseJsonObject(raw);
  if (!parsed.ok) return parsed;
  return keyClash(parsed.value.keys, fieldsRead(kind)) ?? ok(parsed.value.object);
}

/** The keys a kind's verification reads, and each by its lower case: built once per kind. */
interface FieldsRead {
  readonly names: ReadonlySet<string>;
  readonly byLowerCase: ReadonlyMap<string, string>;
}
const fieldsReadCache = new WeakMap<PortOneKind, FieldsRead>();

function fieldsRead(kind: PortOneKind): FieldsRead {
  let read = fieldsReadCache.get(kind);
  if (read === undefined) {
    const names = new Set(["signature_hash", kind.objectRefField]);
    for (const field of kind.signed) for (const name of field.from) names.add(name);
    read = { names, byLowerCase: new Map([...names].map((name) => [name.toLowerCase(), name])) };
    fieldsReadCache.set(kind, read);
  }
  return read;
}

function keyClash(keys: readonly string[], { names: read, byLowerCase }: FieldsRead): Result<never, Rejection> | null {
  const seen = new Set<string>();
  for (const key of keys) {
    if (read.has(key)) {
      if (seen.has(key)) return reject("duplicate_field", `${key} appears more than once`);
      seen.add(key);
      continue;
    }
    const twin = byLowerCase.get(key.toLowerCase());
    if (twin !== undefined)
      return reject("case_variant_field", `${JSON.stringify(key)} differs from ${twin} only in case`);
  }
  return null;
}

/** Go's url.Values.Encode over the kind's signed pairs; a missing or null field is Go's zero value. */
export function canonicalMessage(payload: Payload, kind: PortOneKind): Result<string, Rejection> {
  const pairs: Array<[string, string]> = [];
  for (const field of kind.signed) {
    const name = field.from.find((n) => payload[n] !== undefined && payload[n] !== null);
    const value = name === undefined ? undefined : payload[name];
    if (field.type === "amount") {
      if (value === undefined) pairs.push([field.key, "0"]);
      else if (typeof value === "number" && Number.isFinite(value)) pairs.push([field.key, formatAmount(value)]);
      else return reject("invalid_field_type", `${name} is ${describe(value)}, expected a finite number`);
    } else {
      if (value === undefined) pairs.push([field.key, ""]);
      else if (typeof value === "string") pairs.push([field.key, value]);
      else return reject("invalid_field_type", `${name} is ${describe(value)}, expected a string`);
    }
  }
  return ok(encodePairs(pairs));
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  if (typeof value === "number") return Number.isFinite(value) ? "a number" : "a number out of range";
  if (value !== null && typeof value === "object") return "an object";
  return `a ${typeof value}`;
}

/** Every key is tried, each in constant time, so a rotation can overlap old and new secrets. */
async function anyKeyMatches(keys: readonly CryptoKey[], message: string, signature: string): Promise<boolean> {
  if (signature.length !== SIGNATURE_LENGTH) return false;
  return anyMatch(keys, async (key) => timingSafeEqualText(toBase64(await hmacSign(key, message)), signature));
}
