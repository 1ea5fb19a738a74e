// A destination's content filter (DESTINATIONS.<name>.filter): a JSON object matched against the
// forwarded envelope's proven fields only. Top-level keys: type, provider, kind, object_ref, status,
// source, data (never `unverified`: an unsigned field must not steer an event). Every key must be
// present in the event; values compare as JSON, with no coercion: a scalar must be equal, a list names
// the allowed scalar values, an object matches recursively. The parser refuses what it does not
// understand, naming where; it never ignores it.
//   {"status": "Success", "data": {"currency": ["JPY", "SGD"]}}

import { isRecord } from "../lib/named-json";
import { err, ok, type Result } from "../lib/result";

type Scalar = string | number | boolean | null;
export type FilterValue = Scalar | readonly Scalar[] | { readonly [key: string]: FilterValue };
export type Filter = { readonly [key: string]: FilterValue };

/** The envelope's proven fields a filter may name. */
export const FILTER_KEYS = ["type", "provider", "kind", "object_ref", "status", "source", "data"] as const;
export type FilterKey = (typeof FILTER_KEYS)[number];

/** Depth of nested objects a filter may have (data.card.brand is 2 below data). */
const MAX_DEPTH = 8;

const isScalar = (v: unknown): v is Scalar =>
  v === null || typeof v === "string" || typeof v === "boolean" || (typeof v === "number" && Number.isFinite(v));

/** The filter, or what is wrong with it (the path inside it, then why). */
export function parseFilter(v: unknown): Result<Filter, string> {
  if (!isRecord(v) || Object.keys(v).length === 0)
    return err('a non-empty JSON object such as {"status": "Success", "data": {"currency": ["JPY"]}}');
  for (const key of Object.keys(v))
    if (!(FILTER_KEYS as readonly string[]).includes(key))
      return err(`${key}: not a proven field; a filter may name ${FILTER_KEYS.join(", ")}`);
  const bad = badValue(v, "", 0);
  return bad === null ? ok(v as Filter) : err(bad);
}

/** Where a value cannot be matched, and why; null when every part can. */
function badValue(v: unknown, path: string, depth: number): string | null {
  if (isScalar(v)) return null;
  const at = path === "" ? "" : `${path}: `;
  if (Array.isArray(v))
    return v.length > 0 && v.every(isScalar)
      ? null
      : `${at}a list must hold at least one string, number, boolean or null`;
  if (!isRecord(v)) return `${at}a string, number, boolean, null, list or object`;
  if (depth >= MAX_DEPTH) return `${at}nested more than ${MAX_DEPTH} objects deep`;
  if (Object.keys(v).length === 0) return `${at}an empty object matches nothing you meant`;
  for (const [key, child] of Object.entries(v)) {
    const bad = badValue(child, path === "" ? key : `${path}.${key}`, depth + 1);
    if (bad !== null) return bad;
  }
  return null;
}

/** Whether a value of the event matches the filter's value there (JSON equality, no coercion). */
function matches(want: FilterValue, have: unknown): boolean {
  if (isScalar(want)) return isScalar(have) && have === want;
  if (Array.isArray(want)) return isScalar(have) && (want as readonly Scalar[]).includes(have);
  if (!isRecord(have)) return false;
  return Object.entries(want as Filter).every(([key, child]) => key in have && matches(child, have[key]));
}

/** Whether the event's proven fields match the filter. `field` gives each one the filter names
 *  (`data` parsed only when the filter names it). */
export function filterMatches(filter: Filter, field: (key: FilterKey) => unknown): boolean {
  return Object.entries(filter).every(([key, want]) => {
    const have = field(key as FilterKey);
    return have !== undefined && matches(want, have);
  });
}
