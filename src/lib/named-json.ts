// A variable that holds a JSON object of entries by name (WEBHOOK_SOURCES, DESTINATIONS): parsed
// once, each entry by its own parser, and refused as a whole at the first bad entry, with a message
// that names the variable and the entry.

import { err, ok, type Result } from "./result";

export function parseNamedJson<T>(
  variable: string,
  raw: string,
  parseEntry: (name: string, value: unknown) => Result<T, string>,
): Result<Array<readonly [string, T]>, string> {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return err(`${variable} is not valid JSON`);
  }
  if (!isRecord(json)) return err(`${variable} must be a JSON object of entries by name`);
  const entries: Array<readonly [string, T]> = [];
  for (const [name, value] of Object.entries(json)) {
    const parsed = parseEntry(name, value);
    if (!parsed.ok) return err(`${variable}.${name}${parsed.error}`);
    entries.push([name, parsed.value]);
  }
  return ok(entries);
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}
