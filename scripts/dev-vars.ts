// The local variables the scripts share with `npm run dev`: .dev.vars when it exists, else the
// committed .dev.vars.example, parsed as dotenv files are (quotes, escapes, comments, `export`),
// which is how wrangler reads them. A hand-written `NAME=(.*)` kept a quoted value's quotes.
import { existsSync, readFileSync } from "node:fs";
import { parse } from "dotenv";

export interface DevVar {
  readonly value: string;
  /** The file it came from, for messages. */
  readonly file: string;
}

/** The variable from the first of the files that sets it (default: .dev.vars, .dev.vars.example). */
export function devVar(name: string, files: readonly string[] = [".dev.vars", ".dev.vars.example"]): DevVar | null {
  for (const file of files) {
    if (!existsSync(file)) continue;
    const value = devVarIn(readFileSync(file, "utf8"), name);
    if (value !== null) return { value, file };
  }
  return null;
}

/** The variable's value in a dotenv file's text, or null when it is unset or empty. */
export function devVarIn(text: string, name: string): string | null {
  const value = parse(text)[name];
  return value === undefined || value === "" ? null : value;
}
