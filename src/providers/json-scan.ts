// JSON.parse keeps the last of duplicate keys and is case-sensitive, while Go's struct decoding
// matches keys case-insensitively (spec §9.6). To refuse bodies that two decoders could read
// differently, the verifier needs the top-level keys exactly as written, which JSON.parse hides.
// And the one reader of a dot path (a source's configured object and status paths).

import { MAX_JSON_DEPTH } from "../lib/limits";
import { ok, type Result } from "../lib/result";
import { reject, type Rejection } from "./types";

export interface JsonObject {
  readonly object: Record<string, unknown>;
  /** The top-level keys as written, duplicates included. */
  readonly keys: readonly string[];
}

/** The body as a JSON object of bounded depth, with its top-level keys as written. */
export function parseJsonObject(raw: string): Result<JsonObject, Rejection> {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return reject("invalid_json", "body is not valid JSON");
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    const type = Array.isArray(value) ? "array" : value === null ? "null" : typeof value;
    return reject("not_an_object", `body is JSON ${type}`);
  }
  const scan = scanJsonObject(raw);
  if (scan.depth > MAX_JSON_DEPTH) return reject("too_deep", `nesting depth ${scan.depth}`);
  return ok({ object: value as Record<string, unknown>, keys: scan.keys });
}

export interface ObjectScan {
  /** The top-level keys, decoded, in order, duplicates included. */
  readonly keys: string[];
  /** The deepest nesting of objects and arrays (the top-level object is 1). */
  readonly depth: number;
}

/**
 * Scans a JSON object text for what JSON.parse hides: duplicate keys and nesting depth (deep
 * nesting parses, but recursive code that walks it later overflows the stack).
 * Precondition: `raw` has already parsed (JSON.parse) to a plain object.
 */
export function scanJsonObject(raw: string): ObjectScan {
  const keys: string[] = [];
  let depth = 0;
  let maxDepth = 0;
  let expectKey = false;
  for (let i = 0; i < raw.length; i++) {
    const ch = raw.charCodeAt(i);
    if (ch === 0x22 /* " */) {
      const end = stringEnd(raw, i);
      if (depth === 1 && expectKey) {
        const token = raw.slice(i + 1, end);
        // Only a key with an escape needs decoding (JSON.parse costs ten times a slice).
        keys.push(token.includes("\\") ? (JSON.parse(`"${token}"`) as string) : token);
        expectKey = false;
      }
      i = end;
    } else if (ch === 0x7b /* { */ || ch === 0x5b /* [ */) {
      depth++;
      if (depth > maxDepth) maxDepth = depth;
      expectKey = depth === 1;
    } else if (ch === 0x7d /* } */ || ch === 0x5d /* ] */) {
      depth--;
    } else if (ch === 0x2c /* , */ && depth === 1) {
      expectKey = true;
    }
  }
  return { keys, depth: maxDepth };
}

/** Index of the quote closing the string that opens at `start`. */
function stringEnd(raw: string, start: number): number {
  let i = start + 1;
  for (;;) {
    const quote = raw.indexOf('"', i);
    if (quote < 0) return raw.length - 1;
    let backslashes = 0;
    for (let j = quote - 1; raw.charCodeAt(j) === 0x5c; j--) backslashes++;
    if (backslashes % 2 === 0) return quote;
    i = quote + 1;
  }
}

/** The string (or number, as text) at a dot path; null when absent, empty or another type. */
export function scalarAt(payload: Record<string, unknown>, path: string): string | null {
  let here: unknown = payload;
  for (const key of path.split(".")) {
    if (here === null || typeof here !== "object" || Array.isArray(here) || !Object.hasOwn(here, key)) return null;
    here = (here as Record<string, unknown>)[key];
  }
  if (typeof here === "number" && Number.isFinite(here)) return String(here);
  return typeof here === "string" && here !== "" ? here : null;
}
