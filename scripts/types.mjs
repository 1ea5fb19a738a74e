#!/usr/bin/env node
// `npm run types`: writes worker-env.d.ts (the generated Env) from wrangler.toml and .dev.vars.example,
// as `wrangler types worker-env.d.ts --env-file .dev.vars.example`, and says so in one line. Wrangler's
// own output is kept out: its banner's "update available" points at releases that refuse Node 20, and it
// ends by advising a plain `wrangler types`, which writes another file without the variables' types
// (scripts/check-types.mjs says why the name and the flag matter). Its errors are shown as they are.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const wrangler = fileURLToPath(new URL("../node_modules/wrangler/bin/wrangler.js", import.meta.url));
const run = spawnSync(process.execPath, [wrangler, "types", "worker-env.d.ts", "--env-file", ".dev.vars.example"], {
  cwd: root,
  encoding: "utf8",
  env: { ...process.env, WRANGLER_SEND_METRICS: "false", WRANGLER_HIDE_BANNER: "true" },
});
if (run.status !== 0) {
  process.stderr.write(run.stdout + run.stderr);
  process.exit(run.status ?? 1);
}
console.log(
  "worker-env.d.ts written from wrangler.toml and .dev.vars.example (run `npm run types` again after changing either).",
);
