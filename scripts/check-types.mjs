#!/usr/bin/env node
// Fails when worker-configuration.d.ts (the generated Env) no longer matches wrangler.toml and
// .dev.vars.example. `wrangler types --check` cannot be used: in wrangler 4.86 it ignores
// --env-file, so the secrets' types always look out of date. This regenerates and compares.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const file = `${root}/worker-configuration.d.ts`;
const wrangler = `${root}/node_modules/wrangler/bin/wrangler.js`;
const committed = readFileSync(file, "utf8");
execFileSync(process.execPath, [wrangler, "types", "--env-file", ".dev.vars.example"], {
  cwd: root,
  stdio: ["ignore", "ignore", "inherit"],
  env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
});
const regenerated = readFileSync(file, "utf8");
if (regenerated !== committed) {
  writeFileSync(file, committed);
  console.error("worker-configuration.d.ts is out of date: run `npm run types` and commit the result.");
  process.exit(1);
}
console.log("worker-configuration.d.ts is up to date.");
