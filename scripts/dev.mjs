#!/usr/bin/env node
// `npm run dev`: wrangler dev on 127.0.0.1:8787 with local KV, D1 and Durable Objects.
// Applies the read model's D1 migrations to the local database first (idempotent), then starts.
// Variables: the committed local defaults (.dev.vars.example) overlaid by .dev.vars, when it exists
// (a key set there, even to empty, wins), merged into .wrangler/dev.vars for wrangler. Prints what is
// on and off, never a secret's value. Offline-friendly: no metrics, no update check, no Request.cf fetch.
// For tools (the browser tests): DEV_PORT picks the port, DEV_ENV_FILE uses one variables file as it is,
// DEV_PERSIST_TO (or `npm run dev -- --persist-to DIR`) keeps local state (KV, D1, Durable Objects) in
// a folder of its own, with the read model's migrations applied there too.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parse } from "dotenv";
import { persistTo } from "./dev-args.mjs";
import { summary } from "./dev-summary.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const wrangler = fileURLToPath(new URL("../node_modules/wrangler/bin/wrangler.js", import.meta.url));
const env = {
  WRANGLER_SEND_METRICS: "false",
  // Miniflare fetches a sample `Request.cf` from workers.cloudflare.com at every start; offline that
  // printed a stack trace. The local placeholder is enough for this Worker (it reads no cf field).
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  // Wrangler's banner checks the registry and says "update available" for releases that refuse Node 20
  // (see the README): our own line below names the pinned version instead.
  WRANGLER_HIDE_BANNER: "true",
  CI: "true",
  ...process.env,
};

/** A value as dotenv reads it back unchanged: single quotes are literal (JSON values hold double ones). */
function quoted(value) {
  if (!value.includes("'")) return `'${value}'`;
  if (!value.includes('"') && !value.includes("\n")) return `"${value}"`;
  return `\`${value}\``;
}

/** The variables wrangler gets: one file as asked, or the defaults overlaid by .dev.vars. */
function variables() {
  if (process.env.DEV_ENV_FILE) {
    const file = process.env.DEV_ENV_FILE;
    return { file, vars: parse(readFileSync(file, "utf8")), from: file };
  }
  const vars = parse(readFileSync(`${root}/.dev.vars.example`, "utf8"));
  let from = ".dev.vars.example (no .dev.vars)";
  if (existsSync(`${root}/.dev.vars`)) {
    const own = parse(readFileSync(`${root}/.dev.vars`, "utf8"));
    Object.assign(vars, own);
    from = `.dev.vars.example overlaid by .dev.vars (${Object.keys(own).length} set there)`;
  }
  mkdirSync(`${root}/.wrangler`, { recursive: true });
  const file = `${root}/.wrangler/dev.vars`;
  writeFileSync(
    file,
    Object.entries(vars)
      .map(([k, v]) => `${k}=${quoted(v)}`)
      .join("\n") + "\n",
  );
  return { file, vars, from };
}

const { file, vars, from } = variables();
const pinned = JSON.parse(readFileSync(`${root}/node_modules/wrangler/package.json`, "utf8")).version;
console.log(`[dev] wrangler ${pinned} (pinned: later releases refuse Node 20; see the README)`);
const ownToken = existsSync(`${root}/.dev.vars`) && "ADMIN_TOKEN" in parse(readFileSync(`${root}/.dev.vars`, "utf8"));
const tokenFrom = process.env.DEV_ENV_FILE ?? (ownToken ? ".dev.vars" : ".dev.vars.example");
// `npm run dev -- --port 8799` chooses the port as well as DEV_PORT does (wrangler takes one --port).
const passed = process.argv.slice(2);
const portAt = passed.findIndex((a) => a === "--port" || a.startsWith("--port="));
const given = portAt < 0 ? undefined : passed[portAt].includes("=") ? passed[portAt].split("=")[1] : passed[portAt + 1];
const port = given ?? process.env.DEV_PORT ?? "8787";
console.log(summary(vars, from, { tokenFrom, port }));

const state = persistTo(process.argv.slice(2), process.env.DEV_PERSIST_TO);
const persist = state === null ? [] : ["--persist-to", state.folder];
// The migrations' table and wrangler's confirmation (answered by itself here) are a screen of output: one
// line says what was done; wrangler's words are shown only when it fails.
try {
  const out = execFileSync(
    process.execPath,
    [wrangler, "d1", "migrations", "apply", "READ_MODEL", "--local", ...persist],
    { cwd: root, stdio: ["ignore", "pipe", "pipe"], env, encoding: "utf8" },
  );
  const done = /No migrations to apply/i.test(out) ? "up to date" : "new migrations applied";
  console.log(`[dev] read model (local D1): ${done}`);
} catch (failure) {
  process.stderr.write(`${failure.stdout ?? ""}${failure.stderr ?? ""}`);
  console.error("[dev] the read model's local migrations failed (above); `npm run dev` stops.");
  process.exit(1);
}

const args = [
  "dev",
  "--ip",
  "127.0.0.1",
  ...(given === undefined ? ["--port", port] : []),
  // The cron trigger (a reconciliation pass) on demand: GET /__scheduled?cron=*/5+*+*+*+*
  "--test-scheduled",
  "--env-file",
  file,
  // This run may use the committed example secrets (outside it the Worker refuses them: src/config/examples.ts).
  "--var",
  "LOCAL_DEV:1",
  ...(state?.passed ? [] : persist),
  ...process.argv.slice(2),
];
const child = spawn(process.execPath, [wrangler, ...args], { cwd: root, stdio: "inherit", env });
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
