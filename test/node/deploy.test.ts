// `npm run deploy` from outside, as a merchant's CI would run it: from a fresh copy of the repository, with
// the real wrangler 4.86, no terminal (CI=true) and no login (CLOUDFLARE_API_TOKEN), against a stand-in of
// Cloudflare's API (scripts/cloudflare-stand-in.mjs) that keeps what is created and runs D1's SQL for real.
// The runs follow each other as a merchant's would: a missing input, a dry run, the first deploy, a
// re-run (with a new migration), the sandbox; then an account without a workers.dev subdomain.
import { spawn, execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCloudflareStandIn, type StandInAccount } from "../../scripts/cloudflare-stand-in.mjs";
import { EXAMPLE_SECRETS } from "../../src/config/example-secrets.ts";

const project = join(import.meta.dirname, "../..");
const WORKER = "edge-webhook-gateway";
const PORTONE_SECRET_KEY = "prod-portone-secret-9f2c";

/** The repository as a clone holds it (tracked files and new ones, nothing ignored), with this
 *  project's installed packages. */
function freshCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), "gateway-clone-"));
  const files = execFileSync("git", ["ls-files", "-co", "--exclude-standard"], { cwd: project, encoding: "utf8" })
    .split("\n")
    .filter((f) => f !== "" && !f.startsWith("node_modules/"));
  for (const file of files) {
    mkdirSync(join(dir, dirname(file)), { recursive: true });
    try {
      cpSync(join(project, file), join(dir, file));
    } catch {
      // a file deleted in the working tree but not yet in git's index
    }
  }
  symlinkSync(join(project, "node_modules"), join(dir, "node_modules"));
  return dir;
}

interface Run {
  readonly code: number | null;
  readonly out: string;
}

/** `npm run deploy -- …args` in the copy, without a terminal. */
function deploy(cwd: string, api: string, args: readonly string[], vars: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn("npm", ["run", "-s", "deploy", "--", ...args], {
      cwd,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? tmpdir(),
        CI: "true",
        CLOUDFLARE_API_BASE_URL: api,
        CLOUDFLARE_API_TOKEN: "stand-in-token",
        CLOUDFLARE_ACCOUNT_ID: "acc-test",
        ...vars,
      },
    });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString("utf8")));
    child.stderr.on("data", (c: Buffer) => (out += c.toString("utf8")));
    child.on("close", (code) => resolve({ code, out }));
  });
}

const mutating = (account: StandInAccount) => account.requests.filter((r) => r.method !== "GET");
const tables = (account: StandInAccount, db: string, query: string): unknown[][] =>
  account.databases.get(db)?.db.exec(query)[0]?.values ?? [];

describe("npm run deploy, against a stand-in of Cloudflare's API", () => {
  let clone = "";
  let standIn: Awaited<ReturnType<typeof startCloudflareStandIn>>;
  let account: StandInAccount;
  const inputs = {
    PORTONE_SECRET_KEY,
    PORTONE_KEY: "prod-portone-key",
    MERCHANT_ORIGIN_URL: "https://shop.example/hooks",
  };

  beforeAll(async () => {
    clone = freshCopy();
    standIn = await startCloudflareStandIn();
    account = standIn.account;
  });
  afterAll(async () => {
    await standIn.close();
    rmSync(clone, { recursive: true, force: true });
  });

  it("without a terminal, a missing PORTONE_SECRET_KEY stops it before anything is created", async () => {
    const run = await deploy(clone, standIn.url, []);
    expect(run.code).not.toBe(0);
    expect(run.out).toContain("PORTONE_SECRET_KEY is required");
    expect(mutating(account)).toEqual([]);
  });

  it("refuses an input published in .dev.vars.example, or a loopback origin", async () => {
    for (const vars of [
      { PORTONE_SECRET_KEY: "PORTONE_SECRET" },
      { ...inputs, MERCHANT_ORIGIN_URL: "http://127.0.0.1:9000/webhooks" },
    ]) {
      const run = await deploy(clone, standIn.url, [], vars);
      expect(run.code).not.toBe(0);
    }
    expect(mutating(account)).toEqual([]);
  });

  it("--dry-run reads, names what it would create, and changes nothing", async () => {
    const run = await deploy(clone, standIn.url, ["--dry-run"], inputs);
    expect(run.code, run.out).toBe(0);
    for (const named of [
      `${WORKER}-seen`,
      `${WORKER}-read-model`,
      "FORWARD_SIGNING_SECRET",
      "ADMIN_TOKEN",
      "to create",
    ])
      expect(run.out).toContain(named);
    expect(mutating(account)).toEqual([]);
  });

  it("the first run creates one KV and one D1, migrates before the upload, uploads every secret with it and prints the URLs", async () => {
    const run = await deploy(clone, standIn.url, [], inputs);
    expect(run.code, run.out).toBe(0);
    expect(account.namespaces.map((n) => n.title)).toEqual([`${WORKER}-seen`]);
    expect([...account.databases.keys()]).toEqual([`${WORKER}-read-model`]);
    const migrated = tables(account, `${WORKER}-read-model`, "SELECT name FROM d1_migrations ORDER BY id").flat();
    expect(migrated).toContain("0001_read_model.sql");
    expect(tables(account, `${WORKER}-read-model`, "SELECT count(*) FROM objects")).toEqual([[0]]);
    const worker = account.scripts.get(WORKER);
    expect(worker?.uploads).toHaveLength(1);
    // The read model's migrations went before the Worker that writes it was uploaded.
    const lastQuery = account.requests.filter((r) => r.path.endsWith("/query")).at(-1)?.at ?? Infinity;
    expect(lastQuery).toBeLessThanOrEqual(worker?.uploads[0]?.at ?? 0);
    // Every secret in the deploy's own upload: no placeholder Worker, no separate secret put.
    expect(account.requests.some((r) => r.method === "PUT" && r.path.endsWith("/secrets"))).toBe(false);
    const secrets = Object.fromEntries(worker?.secrets ?? []);
    expect(secrets).toMatchObject(inputs);
    expect(secrets.FORWARD_SIGNING_SECRET).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(secrets.ADMIN_TOKEN).toMatch(/^[A-Za-z0-9_-]{43}$/);
    for (const value of Object.values(secrets)) expect(EXAMPLE_SECRETS).not.toContain(value);
    expect(run.out).toContain(secrets.FORWARD_SIGNING_SECRET);
    expect(run.out).toContain(secrets.ADMIN_TOKEN);
    const bindings = Object.fromEntries((worker?.bindings ?? []).map((b) => [b.name, b]));
    expect(bindings.SEEN).toMatchObject({ type: "kv_namespace", namespace_id: account.namespaces[0]?.id });
    expect(bindings.READ_MODEL).toMatchObject({ type: "d1", id: account.databases.get(`${WORKER}-read-model`)?.uuid });
    expect(worker?.schedules).toEqual([{ cron: "*/5 * * * *" }]);
    expect(worker?.migrationTag).toBe("v4");
    const base = `https://${WORKER}.gateway-test.workers.dev`;
    for (const route of ["payment", "payment-link", "subscription-link", "refund"])
      expect(run.out).toContain(`${base}/webhooks/portone/${route}`);
    expect(run.out).toContain(`${base}/console`);
  });

  it("a re-run creates no KV or D1, keeps the secrets it generated, and applies only a newly added migration", async () => {
    const before = Object.fromEntries(account.scripts.get(WORKER)?.secrets ?? []);
    writeFileSync(join(clone, "migrations/0099_probe.sql"), "CREATE TABLE deploy_probe (x INTEGER);\n");
    try {
      const run = await deploy(clone, standIn.url, [], { PORTONE_SECRET_KEY });
      expect(run.code, run.out).toBe(0);
    } finally {
      rmSync(join(clone, "migrations/0099_probe.sql"));
    }
    expect(
      account.requests.filter((r) => r.method === "POST" && /kv\/namespaces$|d1\/database$/.test(r.path)),
    ).toHaveLength(2);
    const after = Object.fromEntries(account.scripts.get(WORKER)?.secrets ?? []);
    expect(after).toEqual(before);
    expect(tables(account, `${WORKER}-read-model`, "SELECT count(*) FROM deploy_probe")).toEqual([[0]]);
    expect(
      tables(account, `${WORKER}-read-model`, "SELECT count(*) FROM d1_migrations WHERE name = '0099_probe.sql'"),
    ).toEqual([[1]]);
  });

  it("--env sandbox deploys a complete second gateway and leaves production untouched", async () => {
    const uploads = account.scripts.get(WORKER)?.uploads.length;
    const run = await deploy(clone, standIn.url, ["--env", "sandbox"], {
      PORTONE_SECRET_KEY: "sandbox-portone-secret",
    });
    expect(run.code, run.out).toBe(0);
    expect(account.scripts.get(WORKER)?.uploads.length).toBe(uploads);
    const sandbox = account.scripts.get(`${WORKER}-sandbox`);
    const bindings = Object.fromEntries((sandbox?.bindings ?? []).map((b) => [b.name, b]));
    const kv = account.namespaces.find((n) => n.title === `${WORKER}-sandbox-seen`);
    const d1 = account.databases.get(`${WORKER}-sandbox-read-model`);
    expect(bindings.SEEN).toMatchObject({ namespace_id: kv?.id });
    expect(bindings.READ_MODEL).toMatchObject({ id: d1?.uuid });
    for (const name of ["LEDGER", "GATE", "ALERT_STORE", "READ_MODEL_WRITER", "ALERT_EMAIL"])
      expect(bindings[name]).toBeDefined();
    expect(sandbox?.migrationTag).toBe("v4");
    expect(sandbox?.schedules).toEqual([{ cron: "*/5 * * * *" }]);
    expect(tables(account, `${WORKER}-sandbox-read-model`, "SELECT count(*) FROM objects")).toEqual([[0]]);
    expect(Object.fromEntries(sandbox?.secrets ?? [])).toMatchObject({ PORTONE_SECRET_KEY: "sandbox-portone-secret" });
    expect(run.out).toContain(`https://${WORKER}-sandbox.gateway-test.workers.dev/webhooks/portone/payment`);
    expect(account.unknown).toEqual([]);
  });

  it("stops a run without a terminal on an account without a workers.dev subdomain, before anything is created, and says how", async () => {
    const bare = await startCloudflareStandIn({ subdomain: null });
    try {
      const run = await deploy(clone, bare.url, [], inputs);
      expect(run.code).not.toBe(0);
      expect(run.out).toContain("workers.dev subdomain");
      expect(run.out).toContain("/workers/onboarding");
      expect(mutating(bare.account)).toEqual([]);
    } finally {
      await bare.close();
    }
  });
});
