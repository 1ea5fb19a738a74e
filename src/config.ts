// Configuration read from the Worker's environment. Secrets are never logged or echoed.

/**
 * The PortOne Secret Keys: a comma-separated list so a rotation can overlap old and new keys.
 * Entries are trimmed (a secret pasted with a stray newline would otherwise never verify); empty
 * entries are dropped. An empty list means "not configured": no webhook is accepted.
 */
export function portOneSecrets(env: Env): string[] {
  const raw: string | undefined = env.PORTONE_SECRET_KEY;
  if (typeof raw !== "string") return [];
  return raw
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
