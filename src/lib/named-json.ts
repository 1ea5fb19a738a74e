// A variable that holds a JSON object of entries by name (WEBHOOK_SOURCES, DESTINATIONS): parsed
// once, each entry by its own parser, and refused as a whole at the first bad entry, with an error
// whose key names the variable, the entry and (when the entry's parser says) the field.

import type { ConfigError } from "./config-error";
import { err, ok, type Result } from "./result";

/** What is wrong with one entry: in which of its fields, if one, and why. */
export interface EntryError {
  readonly field?: string;
  readonly message: string;
}

export function parseNamedJson<T>(
  variable: string,
  raw: string,
  parseEntry: (name: string, value: unknown) => Result<T, EntryError>,
): Result<Array<readonly [string, T]>, ConfigError> {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return err({ key: variable, message: "not valid JSON" });
  }
  if (!isRecord(json)) return err({ key: variable, message: "must be a JSON object of entries by name" });
  const entries: Array<readonly [string, T]> = [];
  for (const [name, value] of Object.entries(json)) {
    const parsed = parseEntry(name, value);
    if (!parsed.ok) {
      const { field, message } = parsed.error;
      return err({ key: `${variable}.${name}${field === undefined ? "" : `.${field}`}`, message });
    }
    entries.push([name, parsed.value]);
  }
  return ok(entries);
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}
