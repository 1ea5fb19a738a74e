// What `npm run dev` reads from the arguments passed through to wrangler (`npm run dev -- …`).
// Only the one flag it needs, in wrangler's two spellings; written out rather than with node:util's
// parseArgs so the suite, which runs in workerd (no parseArgs there), can test it.

/** The folder local state (KV, D1, Durable Objects) is kept in: a `--persist-to DIR` (or
 *  `--persist-to=DIR`) passed through, else DEV_PERSIST_TO, else null (wrangler's default,
 *  .wrangler/state). The read model's migrations are applied to that folder, so the D1 that wrangler
 *  dev then opens has its tables. `passed`: the flag is among the arguments wrangler gets already. */
export function persistTo(argv, fromEnv) {
  const joined = "--persist-to=";
  for (const [i, arg] of argv.entries()) {
    const folder = arg === "--persist-to" ? argv[i + 1] : arg.startsWith(joined) ? arg.slice(joined.length) : null;
    if (folder) return { folder, passed: true };
  }
  return fromEnv ? { folder: fromEnv, passed: false } : null;
}
