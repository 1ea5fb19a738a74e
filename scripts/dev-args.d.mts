/** See dev-args.mjs. */
export function persistTo(
  argv: readonly string[],
  fromEnv: string | undefined,
): { readonly folder: string; readonly passed: boolean } | null;
