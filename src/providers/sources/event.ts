// What both generic schemes share once a signature is proven: the body must be a JSON object
// (bounded depth), and the source's configured paths give the object reference and status.

import { parseJsonObject, scalarAt } from "../json-scan";
import { ok } from "../../lib/result";
import { positionOf, reject, type VerifyResult } from "../types";
import type { GenericSource } from "./parse";

/** A verified body as an event of the source; `eventId` comes from the scheme. */
export function sourceEvent(raw: string, source: GenericSource, eventId: string): VerifyResult {
  const parsed = parseJsonObject(raw);
  if (!parsed.ok) return parsed;
  const payload = parsed.value.object;
  const objectRef = scalarAt(payload, source.objectRef);
  if (objectRef === null)
    return reject("missing_object_ref", `${source.objectRef} is not a non-empty string or number`);
  const status = scalarAt(payload, source.status);
  if (status === null) return reject("missing_status", `${source.status} is not a non-empty string or number`);
  return ok({
    provider: source.name,
    kind: source.kind,
    objectRef,
    status,
    position: positionOf(source.lifecycle, status),
    eventId,
    // The signature covers the whole body: all of it is proven.
    data: payload,
    unverified: null,
    sourceName: source.name,
  });
}

/** Whole seconds (or milliseconds) since the epoch, as the header carries them; null when malformed. */
export function parseTimestamp(header: string | undefined, unit: "s" | "ms" = "s"): number | null {
  const digits = unit === "ms" ? /^\d{1,15}$/ : /^\d{1,12}$/;
  if (header === undefined || !digits.test(header.trim())) return null;
  return Number(header.trim());
}
