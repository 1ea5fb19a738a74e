#!/usr/bin/env node
// `npm run dev`: wrangler dev on 127.0.0.1:8787 with local KV, D1 and Durable Objects.
// Applies the read model's D1 migrations to the local database first (idempotent), then starts.
// Uses .dev.vars when it exists, otherwise the committed local defaults in .dev.vars.example.
// For tools (the browser tests): DEV_PORT picks the port, DEV_ENV_FILE forces a variables file,
// DEV_PERSIST_TO keeps local state (KV, D1, Durable Objects) in a folder of its own.
import { execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const wrangler = fileURLToPath(new URL("../node_modules/wrangler/bin/wrangler.js", import.meta.url));
const env = { WRANGLER_SEND_METRICS: "false", CI: "true", ...process.env };

const persist = process.env.DEV_PERSIST_TO ? ["--persist-to", process.env.DEV_PERSIST_TO] : [];
execFileSync(process.execPath, [wrangler, "d1", "migrations", "apply", "READ_MODEL", "--local", ...persist], {
  cwd: root,
  stdio: ["ignore", "inherit", "inherit"],
  env,
});

const args = [
  "dev",
  "--ip",
  "127.0.0.1",
  "--port",
  process.env.DEV_PORT ?? "8787",
  // The cron trigger (a reconciliation pass) on demand: GET /__scheduled?cron=*/5+*+*+*+*
  "--test-scheduled",
  ...persist,
  ...process.argv.slice(2),
];
if (process.env.DEV_ENV_FILE) {
  args.push("--env-file", process.env.DEV_ENV_FILE);
} else if (!existsSync(`${root}/.dev.vars`)) {
  console.log("[dev] .dev.vars not found: using the local defaults in .dev.vars.example");
  args.push("--env-file", ".dev.vars.example");
}
const child = spawn(process.execPath, [wrangler, ...args], { cwd: root, stdio: "inherit", env });
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
