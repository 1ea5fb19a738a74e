#!/usr/bin/env node
// `npm run dev`: wrangler dev on 127.0.0.1:8787 with local KV and Durable Objects.
// Uses .dev.vars when it exists, otherwise the committed local defaults in .dev.vars.example.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const args = ["dev", "--ip", "127.0.0.1", "--port", "8787", ...process.argv.slice(2)];
if (!existsSync(`${root}/.dev.vars`)) {
  console.log("[dev] .dev.vars not found: using the local defaults in .dev.vars.example");
  args.push("--env-file", ".dev.vars.example");
}
const wrangler = fileURLToPath(new URL("../node_modules/wrangler/bin/wrangler.js", import.meta.url));
const child = spawn(process.execPath, [wrangler, ...args], {
  cwd: root,
  stdio: "inherit",
  env: { WRANGLER_SEND_METRICS: "false", ...process.env },
});
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
