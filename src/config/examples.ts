// The committed local defaults (.dev.vars.example) are published in this repository: a production
// gateway holding one of their secrets would take webhooks signed with a published key and open its
// console to a published token. So outside `npm run dev`, which marks its own run (LOCAL_DEV, passed by
// `wrangler dev --var`, never in .dev.vars.example; the tests pass it the same way), a variable whose
// secret equals one of .dev.vars.example's makes the gateway refuse to work: webhooks answer 503
// not_configured and the admin API and console 404, as without ADMIN_TOKEN, the log naming the variable.
// The example's secrets are in example-secrets.ts, generated from the file (npm test checks it is current).

import { EXAMPLE_SECRETS } from "./example-secrets";

/** The variable `npm run dev` sets (to "1") to say the committed example values are fine here. */
export const LOCAL_RUN_MARK = "LOCAL_DEV";

/** The variables that hold secrets: one secret, a comma-separated list of them, or JSON whose
 *  `secret` and `secrets` fields hold them. */
export const SECRET_VARIABLES = {
  one: ["FORWARD_SIGNING_SECRET", "ADMIN_TOKEN"],
  list: ["PORTONE_SECRET_KEY"],
  json: ["WEBHOOK_SOURCES", "DESTINATIONS", "ALERTS"],
} as const;

type Read = (name: string) => string | undefined;

/** The secrets one variable holds, as SECRET_VARIABLES says where. */
export function secretsOf(name: string, raw: string | undefined): string[] {
  if (raw === undefined || raw.trim() === "") return [];
  if ((SECRET_VARIABLES.list as readonly string[]).includes(name))
    return raw
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "");
  if ((SECRET_VARIABLES.json as readonly string[]).includes(name)) return secretsInJson(raw);
  return [raw.trim()];
}

/** Every string under a `secret`, `secrets` or `apiKey` key of a JSON text (none when it is not JSON). */
export function secretsInJson(raw: string): string[] {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return [];
  }
  const found: string[] = [];
  const walk = (v: unknown, key: string | null): void => {
    if (typeof v === "string") {
      if (key === "secret" || key === "secrets" || key === "apiKey") found.push(v.trim());
    } else if (Array.isArray(v)) for (const item of v) walk(item, key === "secrets" ? key : null);
    else if (v !== null && typeof v === "object")
      for (const [k, child] of Object.entries(v as Record<string, unknown>)) walk(child, k);
  };
  walk(value, null);
  return found.filter((s) => s !== "");
}

const ALL = [...SECRET_VARIABLES.one, ...SECRET_VARIABLES.list, ...SECRET_VARIABLES.json];

/** The variables that hold a secret of .dev.vars.example (none in a run `npm run dev` marked). */
export function exampleVariables(read: Read): string[] {
  if (read(LOCAL_RUN_MARK) === "1") return [];
  const published = new Set(EXAMPLE_SECRETS);
  return ALL.filter((name) => secretsOf(name, read(name)).some((secret) => published.has(secret)));
}
