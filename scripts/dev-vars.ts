// The local variables the scripts share with `npm run dev`: the committed .dev.vars.example overlaid
// by .dev.vars (a key set there wins, as `npm run dev` merges them), parsed as dotenv files are (quotes, escapes, comments, `export`),
// which is how wrangler reads them. A hand-written `NAME=(.*)` kept a quoted value's quotes.
import { existsSync, readFileSync } from "node:fs";
import { parse } from "dotenv";

export interface DevVar {
  readonly value: string;
  /** The file it came from, for messages. */
  readonly file: string;
}

/** The variable from the first of the files that has the key (default: .dev.vars, .dev.vars.example);
 *  a key set to empty in .dev.vars is empty, as `npm run dev` gives it to wrangler. */
export function devVar(name: string, files: readonly string[] = [".dev.vars", ".dev.vars.example"]): DevVar | null {
  for (const file of files) {
    if (!existsSync(file)) continue;
    const vars = parse(readFileSync(file, "utf8"));
    if (!(name in vars)) continue;
    const value = vars[name] ?? "";
    return value === "" ? null : { value, file };
  }
  return null;
}

/** The variable's value in a dotenv file's text, or null when it is unset or empty. */
export function devVarIn(text: string, name: string): string | null {
  const value = parse(text)[name];
  return value === undefined || value === "" ? null : value;
}
