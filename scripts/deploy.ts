// `npm run deploy`: a fresh clone (after `npm install`) to a running gateway on your own Cloudflare account,
// in one command (design: "Deploy in one command"). Credentials are wrangler's: `wrangler login`, or
// CLOUDFLARE_API_TOKEN (and CLOUDFLARE_ACCOUNT_ID where the token reaches several accounts).
//
//   npm run deploy                        the gateway (the Worker named in wrangler.toml)
//   npm run deploy -- --env sandbox       a second, complete gateway: <worker>-sandbox
//   npm run deploy -- --dry-run           lists what exists and says what it would create; changes nothing
//
// Inputs come from the environment, or a terminal prompt: PORTONE_SECRET_KEY (required), PORTONE_KEY and
// MERCHANT_ORIGIN_URL (optional). Without a terminal (CI), a missing required input stops the run before
// anything is created. Then: the KV namespace <worker>-seen and the D1 database <worker>-read-model are
// found by name or created; the read model's migrations are applied (only new ones) before the Worker is
// uploaded; FORWARD_SIGNING_SECRET and ADMIN_TOKEN are generated when the Worker lacks them (printed once,
// by the run that made them); every secret goes up with the Worker (`wrangler deploy --secrets-file`: no
// placeholder Worker, no `secret put`), never one of .dev.vars.example's; the PortOne URLs are printed.
// Why a script and a generated configuration: wrangler 4.86 (the last for Node 20) writes no id into a
// commented wrangler.toml and needs the D1 id in the configuration to migrate it, and its provisioning is
// not idempotent after a failed first deploy. Finding by name each run is; the ids go into
// .wrangler/deploy/wrangler.json only (docs/design.md).

import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { createInterface } from "node:readline/promises";
import { parseArgs } from "node:util";
import { parse as parseToml } from "smol-toml";
import {
  deployConfig,
  gatewayUrls,
  INPUTS,
  refusal,
  secretsToUpload,
  targetOf,
  type InputName,
  type Target,
  type WranglerConfig,
} from "./deploy-plan.ts";

const root = new URL("..", import.meta.url).pathname;
const wranglerBin = join(root, "node_modules/wrangler/bin/wrangler.js");
const { values: flags } = parseArgs({
  options: {
    env: { type: "string" },
    "dry-run": { type: "boolean" },
    // Where a new D1 database lives (d1 create --location, --jurisdiction): docs/operations.md.
    location: { type: "string" },
    jurisdiction: { type: "string" },
  },
});
const dryRun = flags["dry-run"] === true;
const interactive = process.stdin.isTTY === true && process.env.CI !== "true";
const random = (n: number) => new Uint8Array(randomBytes(n));

function stop(message: string): never {
  console.error(`\n✘ ${message}`);
  process.exit(1);
}

/** Runs wrangler. Quiet: its output is captured (and shown only when it fails), and it runs without a
 *  terminal (it asks nothing). Live: it has the terminal (it may offer a workers.dev subdomain), and what it
 *  prints is shown as it comes and kept. Throws with wrangler's words on failure. */
function wrangler(args: readonly string[], live = false): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [wranglerBin, ...args], {
      cwd: root,
      stdio: [live ? "inherit" : "ignore", "pipe", "pipe"],
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", WRANGLER_HIDE_BANNER: "true" },
    });
    let [out, err] = ["", ""];
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString("utf8");
      if (live) process.stdout.write(chunk);
    });
    child.stderr.on("data", (chunk: Buffer) => {
      err += chunk.toString("utf8");
      if (live) process.stderr.write(chunk);
    });
    child.on("close", (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${out}${err}`.trim() || `wrangler ${args[0]} failed (${code})`)),
    );
  });
}

const json = <T>(text: string): T => JSON.parse(text.slice(text.search(/[[{]/))) as T;

async function inputs(): Promise<Partial<Record<InputName, string>>> {
  const given: Partial<Record<InputName, string>> = {};
  const prompt = interactive ? createInterface({ input: process.stdin, output: process.stdout }) : null;
  try {
    for (const input of INPUTS) {
      let value = process.env[input.name]?.trim();
      if (!value && prompt !== null)
        value = (
          await prompt.question(`${input.name}${input.required ? "" : " (optional, Enter to skip)"}: ${input.hint}\n> `)
        ).trim();
      if (!value) {
        if (input.required)
          stop(`${input.name} is required: set it in the environment (${input.hint}). Nothing was created.`);
        continue;
      }
      const refused = refusal(input.name, value);
      if (refused !== null) stop(`${refused}. Nothing was created.`);
      given[input.name] = value;
    }
  } finally {
    prompt?.close();
  }
  return given;
}

/** Without a terminal, wrangler cannot offer a workers.dev subdomain: an account without one stops here,
 *  before anything is created. Checked with the API token the run uses (a login has a terminal). */
async function requireSubdomain(): Promise<void> {
  const token = process.env.CLOUDFLARE_API_TOKEN;
  if (interactive || !token) return;
  const base = process.env.CLOUDFLARE_API_BASE_URL ?? "https://api.cloudflare.com/client/v4";
  const headers = { authorization: `Bearer ${token}` };
  let account = process.env.CLOUDFLARE_ACCOUNT_ID;
  if (!account) {
    const memberships = await (
      await fetch(`${base}/memberships`, { headers })
    ).json<{
      result?: Array<{ account: { id: string } }>;
    }>();
    const accounts = memberships.result ?? [];
    if (accounts.length !== 1)
      stop("the API token reaches several accounts (or none): set CLOUDFLARE_ACCOUNT_ID. Nothing was created.");
    account = accounts[0]?.account.id;
  }
  const answer = await fetch(`${base}/accounts/${account}/workers/subdomain`, { headers });
  const body = await answer.json<{ result?: { subdomain?: string } | null }>();
  if (!answer.ok || !body.result?.subdomain)
    stop(
      `this account has no workers.dev subdomain yet. Register one at https://dash.cloudflare.com/${account}/workers/onboarding ` +
        "(or run `npm run deploy` in a terminal: wrangler offers one), then run it again. Nothing was created.",
    );
}

/** The KV namespace and D1 database of the target, by name: their ids, or null when missing. */
async function existing(target: Target): Promise<{ kv: string | null; d1: string | null }> {
  const namespaces = json<Array<{ id: string; title: string }>>(await wrangler(["kv", "namespace", "list"]));
  const databases = json<Array<{ uuid: string; name: string }>>(await wrangler(["d1", "list", "--json"]));
  return {
    kv: namespaces.find((n) => n.title === target.kv)?.id ?? null,
    d1: databases.find((d) => d.name === target.d1)?.uuid ?? null,
  };
}

/** The secrets the Worker has (none when it does not exist yet). */
async function secretsOfWorker(worker: string): Promise<Set<string>> {
  try {
    const listed = json<Array<{ name: string }>>(await wrangler(["secret", "list", "--name", worker]));
    return new Set(listed.map((s) => s.name));
  } catch (thrown) {
    if (/10007|does not exist|not found/i.test(String(thrown))) return new Set();
    throw thrown;
  }
}

async function main(): Promise<void> {
  const config = parseToml(readFileSync(join(root, "wrangler.toml"), "utf8")) as unknown as WranglerConfig;
  const env = flags.env ?? null;
  if (env !== null && config.env?.[env] === undefined) stop(`wrangler.toml has no [env.${env}] section.`);
  const target = targetOf(config.name, env);
  console.log(`Deploying ${target.worker}${dryRun ? " (dry run: nothing is created, migrated or uploaded)" : ""}`);
  const given = await inputs();
  await requireSubdomain();

  const found = await existing(target);
  const secrets = await secretsOfWorker(target.worker);
  const { upload, generated } = secretsToUpload(given, secrets, random);
  const plan = [
    `KV namespace ${target.kv}: ${found.kv === null ? "to create" : `exists (${found.kv})`}`,
    `D1 database ${target.d1}: ${found.d1 === null ? "to create" : `exists (${found.d1})`}, its migrations applied`,
    `secrets uploaded with the Worker: ${Object.keys(upload).join(", ")}${generated.length > 0 ? ` (generated: ${generated.join(", ")})` : ""}`,
  ];
  for (const line of plan) console.log(`  ${dryRun ? "would: " : ""}${line}`);
  if (dryRun) return;

  if (found.kv === null) await wrangler(["kv", "namespace", "create", target.kv, "--update-config=false"]);
  const where = [
    ...(flags.location ? ["--location", flags.location] : []),
    ...(flags.jurisdiction ? ["--jurisdiction", flags.jurisdiction] : []),
  ];
  if (found.d1 === null) await wrangler(["d1", "create", target.d1, ...where, "--update-config=false"]);
  const ids = await existing(target);
  if (ids.kv === null || ids.d1 === null) stop("the KV namespace or the D1 database was not found after creating it.");

  const outDir = join(root, ".wrangler/deploy");
  mkdirSync(outDir, { recursive: true });
  const configFile = join(outDir, "wrangler.json");
  const generatedConfig = deployConfig(config, target, { kv: ids.kv, d1: ids.d1 }, (path) =>
    relative(outDir, join(root, path)),
  );
  writeFileSync(configFile, JSON.stringify(generatedConfig, null, 2));
  const envArgs = env === null ? ["--env="] : ["--env", env];

  // The read model's tables before the Worker that writes them serves (only migrations not applied yet).
  await wrangler(["d1", "migrations", "apply", "READ_MODEL", "--remote", "--config", configFile, ...envArgs]);
  console.log(`  ✓ read model migrated (${target.d1})`);

  const secretsDir = mkdtempSync(join(tmpdir(), "gateway-deploy-"));
  const secretsFile = join(secretsDir, "secrets.json");
  writeFileSync(secretsFile, JSON.stringify(upload), { mode: 0o600 });
  let output: string;
  try {
    output = await wrangler(["deploy", "--config", configFile, ...envArgs, "--secrets-file", secretsFile], interactive);
  } catch (thrown) {
    stop(`wrangler deploy failed:\n${String(thrown instanceof Error ? thrown.message : thrown)}`);
  } finally {
    rmSync(secretsDir, { recursive: true, force: true });
  }
  report(target, output, upload, generated, secrets);
}

function report(
  target: Target,
  output: string,
  upload: Record<string, string>,
  generated: readonly string[],
  before: ReadonlySet<string>,
): void {
  const url =
    /https:\/\/[^\s]+\.workers\.dev/.exec(output)?.[0] ?? `https://${target.worker}.<your-subdomain>.workers.dev`;
  const urls = gatewayUrls(url);
  console.log(`\n✓ ${target.worker} is deployed at ${url}\n`);
  console.log("Register these in PortOne (admin.portone.cloud > Settings > Webhooks), one per type:");
  for (const webhook of urls.webhooks) console.log(`  ${webhook}`);
  console.log(`\nThe console: ${urls.console}`);
  for (const name of generated)
    console.log(
      `  ${name} (generated now, shown once; keep it${name === "FORWARD_SIGNING_SECRET" ? ": your server verifies forwarded events with it" : ": the console's token"}):\n    ${upload[name]}`,
    );
  const off = [
    ...(upload.MERCHANT_ORIGIN_URL === undefined && !before.has("MERCHANT_ORIGIN_URL")
      ? ["forwarding: MERCHANT_ORIGIN_URL (events are kept until it is set)"]
      : []),
    ...(before.has("ALERTS") ? [] : ["alerts: ALERTS (docs/operations.md, Alerts)"]),
    ...(before.has("DESTINATIONS") ? [] : ["more destinations: DESTINATIONS"]),
  ];
  if (off.length > 0)
    console.log(
      `\nStill off: ${off.join("; ")}. Set them with \`npx wrangler secret put NAME\`${target.env === null ? "" : ` --env ${target.env}`}.`,
    );
}

await main();
