// A stand-in for the parts of Cloudflare's API that wrangler 4.86 calls for `npm run deploy`, so the deploy
// can be tried end to end without an account: point wrangler at it with CLOUDFLARE_API_BASE_URL (plus
// CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID: no login). It lies outside the Worker, so a stand-in is
// the right tool; it answers in the documented envelope `{success, errors, messages, result}`, keeps what
// is created (KV namespaces, D1 databases, Workers with their bindings, secrets, migrations and crons) in
// memory, and applies D1's SQL for real, with SQLite (sql.js). Routes it does not know answer 404 and are
// recorded, so a test sees wrangler ask for something new.
//
//   node scripts/cloudflare-stand-in.mjs [--port 8990] [--subdomain acme | --no-subdomain]
//   (then, in another terminal: CLOUDFLARE_API_BASE_URL=http://127.0.0.1:8990/client/v4
//    CLOUDFLARE_API_TOKEN=x CLOUDFLARE_ACCOUNT_ID=acc CI=true npm run deploy)

import { randomBytes, randomUUID } from "node:crypto";
import http from "node:http";
import { parseArgs } from "node:util";
import initSqlJs from "sql.js";

const SQL = await initSqlJs();
const hex = (n) => randomBytes(n).toString("hex");

/** The state an account holds, as the stand-in's tests read it. */
export function newAccount(subdomain = "gateway-test") {
  return {
    subdomain,
    namespaces: [],
    /** name → { uuid, name, created_at, location, db } */
    databases: new Map(),
    /** name → { uploads: [{ metadata, modules, at }], secrets: Map, schedules, migrationTag, devEnabled } */
    scripts: new Map(),
    /** Every request, in order: { method, path, at }. */
    requests: [],
    /** Requests no route answered. */
    unknown: [],
  };
}

const envelope = (result, extra = {}) => ({ success: true, errors: [], messages: [], result, ...extra });
const failure = (code, message) => ({ success: false, errors: [{ code, message }], messages: [], result: null });

/** The rows one SQL text gives, statement by statement, as D1's query endpoint answers them. */
function runSql(db, sql, params = []) {
  const results = [];
  if (params.length > 0) {
    const statement = db.prepare(sql);
    statement.bind(params);
    const rows = [];
    while (statement.step()) rows.push(statement.getAsObject());
    statement.free();
    results.push({ results: rows, success: true, meta: { changes: db.getRowsModified(), duration: 0 } });
    return results;
  }
  for (const statement of db.iterateStatements(sql)) {
    const rows = [];
    while (statement.step()) rows.push(statement.getAsObject());
    results.push({ results: rows, success: true, meta: { changes: db.getRowsModified(), duration: 0 } });
  }
  return results;
}

/** The parts of a multipart/form-data body: name → { filename, type, text }. */
async function formParts(request, raw) {
  const form = await new Response(raw, { headers: { "content-type": request.headers["content-type"] } }).formData();
  const parts = {};
  for (const [name, value] of form.entries())
    parts[name] =
      typeof value === "string"
        ? { text: value }
        : { filename: value.name, type: value.type, text: await value.text() };
  return parts;
}

function script(account, name) {
  let s = account.scripts.get(name);
  if (s === undefined) {
    s = {
      uploads: [],
      secrets: new Map(),
      bindings: [],
      schedules: [],
      deployments: [],
      versions: new Map(),
      migrationTag: null,
      devEnabled: false,
      created: false,
    };
    account.scripts.set(name, s);
  }
  return s;
}

/** Puts an uploaded Worker (its multipart parts) live: bindings, secrets (those not sent are kept only
 *  when `keep_bindings` names secret_text, as with `--secrets-file`), Durable Object migrations (whose
 *  old_tag must be the Worker's current tag, as the API requires). An error answer, or null. */
function activate(s, parts, versionId = randomUUID()) {
  const metadata = JSON.parse(parts.metadata?.text ?? "{}");
  const oldTag = metadata.migrations?.old_tag ?? null;
  if (metadata.migrations !== undefined && oldTag !== s.migrationTag)
    return [400, failure(10079, `migration old_tag ${oldTag} does not match the Worker's ${s.migrationTag}`)];
  if (metadata.migrations?.new_tag) s.migrationTag = metadata.migrations.new_tag;
  if (!(metadata.keep_bindings ?? []).includes("secret_text")) s.secrets.clear();
  for (const binding of metadata.bindings ?? [])
    if (binding.type === "secret_text") s.secrets.set(binding.name, binding.text);
  s.bindings = (metadata.bindings ?? []).filter((b) => b.type !== "secret_text");
  s.uploads.push({ metadata, modules: Object.keys(parts).filter((k) => k !== "metadata"), at: Date.now() });
  s.created = true;
  s.deployments.unshift({
    id: randomUUID(),
    created_on: new Date().toISOString(),
    source: "wrangler",
    strategy: "percentage",
    versions: [{ version_id: versionId, percentage: 100 }],
  });
  return null;
}

const ROUTES = [
  ["GET", /^\/accounts\/[^/]+\/storage\/kv\/namespaces$/, (a, _m, _b, query) => page(a.namespaces, query)],
  [
    "POST",
    /^\/accounts\/[^/]+\/storage\/kv\/namespaces$/,
    (a, _m, body) => {
      const { title } = JSON.parse(body);
      if (a.namespaces.some((n) => n.title === title))
        return [400, failure(10014, "a namespace with this account ID and title already exists")];
      const namespace = { id: hex(16), title, supports_url_encoding: true };
      a.namespaces.push(namespace);
      return envelope(namespace);
    },
  ],
  [
    "GET",
    /^\/accounts\/[^/]+\/d1\/database$/,
    (a, _m, _b, query) => {
      const name = query.get("name");
      return page([...a.databases.values()].filter((d) => !name || d.name === name).map(dbView), query);
    },
  ],
  [
    "POST",
    /^\/accounts\/[^/]+\/d1\/database$/,
    (a, _m, body) => {
      const { name, primary_location_hint: location } = JSON.parse(body);
      if (a.databases.has(name)) return [400, failure(7502, "A database with that name already exists")];
      const database = {
        uuid: randomUUID(),
        name,
        created_at: new Date().toISOString(),
        location: location ?? null,
        db: new SQL.Database(),
      };
      a.databases.set(name, database);
      return envelope(dbView(database));
    },
  ],
  ["GET", /^\/accounts\/[^/]+\/d1\/database\/([^/]+)$/, (a, m) => withDatabase(a, m[1], (d) => envelope(dbView(d)))],
  [
    "POST",
    /^\/accounts\/[^/]+\/d1\/database\/([^/]+)\/(query|raw)$/,
    (a, m, body) =>
      withDatabase(a, m[1], (d) => {
        const { sql, params } = JSON.parse(body);
        try {
          return envelope(runSql(d.db, sql, params ?? []));
        } catch (thrown) {
          return [400, failure(7500, `${thrown.message}: SQLITE_ERROR`)];
        }
      }),
  ],
  [
    "GET",
    /^\/accounts\/[^/]+\/workers\/scripts\/([^/]+)\/secrets$/,
    (a, m) => {
      const s = a.scripts.get(m[1]);
      if (s === undefined || !s.created) return [404, failure(10007, "This Worker does not exist on your account.")];
      return envelope([...s.secrets.keys()].map((name) => ({ name, type: "secret_text" })));
    },
  ],
  [
    "GET",
    /^\/accounts\/[^/]+\/workers\/services\/([^/]+)$/,
    (a, m) => {
      const s = a.scripts.get(m[1]);
      if (s === undefined || !s.created) return [404, failure(10090, "workers.api.error.service_not_found")];
      return envelope({
        id: m[1],
        default_environment: {
          environment: "production",
          script: { tag: `tag-${m[1]}`, tags: [], last_deployed_from: "wrangler" },
        },
      });
    },
  ],
  [
    "GET",
    /^\/accounts\/[^/]+\/workers\/scripts\/([^/]+)\/deployments$/,
    (a, m) => {
      const s = a.scripts.get(m[1]);
      if (s === undefined || !s.created) return [404, failure(10007, "This Worker does not exist on your account.")];
      return envelope({ deployments: s.deployments });
    },
  ],
  [
    "GET",
    /^\/accounts\/[^/]+\/workers\/scripts$/,
    (a) =>
      envelope(
        [...a.scripts]
          .filter(([, s]) => s.created)
          .map(([id, s]) => ({ id, migration_tag: s.migrationTag ?? undefined })),
      ),
  ],
  [
    "PUT",
    /^\/accounts\/[^/]+\/workers\/scripts\/([^/]+)$/,
    async (a, m, _b, _q, req, raw) => {
      const s = script(a, m[1]);
      const parts = await formParts(req, raw);
      const refused = activate(s, parts);
      if (refused !== null) return refused;
      return envelope({ id: m[1], etag: hex(16), handlers: ["fetch", "scheduled"], migration_tag: s.migrationTag });
    },
  ],
  [
    "POST",
    /^\/accounts\/[^/]+\/workers\/scripts\/([^/]+)\/versions$/,
    async (a, m, _b, _q, req, raw) => {
      const s = script(a, m[1]);
      const id = randomUUID();
      s.versions.set(id, await formParts(req, raw));
      return envelope({
        id,
        number: s.versions.size,
        resources: { script: { etag: hex(16), handlers: ["fetch", "scheduled"] } },
        startup_time_ms: 1,
      });
    },
  ],
  [
    "POST",
    /^\/accounts\/[^/]+\/workers\/scripts\/([^/]+)\/deployments$/,
    (a, m, body) => {
      const s = script(a, m[1]);
      const [version] = JSON.parse(body).versions ?? [];
      const parts = s.versions.get(version?.version_id);
      if (parts === undefined) return [400, failure(10000, "no such version")];
      const refused = activate(s, parts, version.version_id);
      return refused ?? envelope({ id: randomUUID(), strategy: "percentage", versions: [version] });
    },
  ],
  [
    "PATCH",
    /^\/accounts\/[^/]+\/workers\/scripts\/([^/]+)\/script-settings$/,
    (a, m, body) => envelope((script(a, m[1]).scriptSettings = JSON.parse(body))),
  ],
  [
    "GET",
    /^\/accounts\/[^/]+\/workers\/subdomain$/,
    (a) =>
      a.subdomain === null
        ? [404, failure(10007, "This account does not have a workers.dev subdomain.")]
        : envelope({ subdomain: a.subdomain }),
  ],
  [
    "GET",
    /^\/accounts\/[^/]+\/workers\/scripts\/([^/]+)\/subdomain$/,
    (a, m) => envelope({ enabled: script(a, m[1]).devEnabled, previews_enabled: false }),
  ],
  [
    "POST",
    /^\/accounts\/[^/]+\/workers\/scripts\/([^/]+)\/subdomain$/,
    (a, m, body) => {
      const { enabled } = JSON.parse(body);
      if (enabled && a.subdomain === null)
        return [400, failure(10007, "This account does not have a workers.dev subdomain.")];
      script(a, m[1]).devEnabled = enabled;
      return envelope({ enabled, previews_enabled: false });
    },
  ],
  [
    "PUT",
    /^\/accounts\/[^/]+\/workers\/scripts\/([^/]+)\/schedules$/,
    (a, m, body) => {
      script(a, m[1]).schedules = JSON.parse(body);
      return envelope({ schedules: script(a, m[1]).schedules });
    },
  ],
  [
    "GET",
    /^\/accounts\/[^/]+\/workers\/scripts\/([^/]+)\/settings$/,
    (a, m) => envelope({ logpush: false, observability: script(a, m[1]).observability ?? null }),
  ],
  [
    "PATCH",
    /^\/accounts\/[^/]+\/workers\/scripts\/([^/]+)\/settings$/,
    async (a, m, _b, _q, req, raw) => {
      const parts = await formParts(req, raw);
      script(a, m[1]).observability = JSON.parse(parts.settings?.text ?? "{}").observability ?? null;
      return envelope({});
    },
  ],
  [
    "GET",
    /^\/memberships$/,
    () => envelope([{ id: "membership", account: { id: "stand-in-account", name: "Stand-in" } }]),
  ],
];

/** One page of a list, as the API pages them (`page`, `per_page`; an empty page past the end). */
function page(all, query) {
  const [number, size] = [Number(query.get("page") ?? 1), Number(query.get("per_page") ?? 20)];
  const items = all.slice((number - 1) * size, number * size);
  return envelope(items, {
    result_info: {
      page: number,
      per_page: size,
      count: items.length,
      total_count: all.length,
      total_pages: Math.ceil(all.length / size),
    },
  });
}

function dbView(d) {
  return {
    uuid: d.uuid,
    name: d.name,
    created_at: d.created_at,
    version: "production",
    num_tables: 0,
    file_size: 0,
    running_in_region: d.location ?? "WEUR",
  };
}

function withDatabase(account, id, answer) {
  const database = [...account.databases.values()].find((d) => d.uuid === id || d.name === id);
  return database === undefined ? [404, failure(7404, "The database could not be found")] : answer(database);
}

/** Starts the stand-in; resolves with its base URL (…/client/v4), its account and close(). */
export async function startCloudflareStandIn({ port = 0, subdomain = "gateway-test" } = {}) {
  const account = newAccount(subdomain);
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", async () => {
      const raw = Buffer.concat(chunks);
      const url = new URL(req.url ?? "/", "http://stand-in");
      const path = url.pathname.replace(/^\/client\/v4/, "");
      account.requests.push({ method: req.method, path, at: Date.now() });
      let status = 200;
      let body;
      try {
        const route = ROUTES.find(([method, pattern]) => method === req.method && pattern.test(path));
        if (route === undefined) {
          account.unknown.push(`${req.method} ${path}`);
          [status, body] = [404, failure(7003, `the stand-in has no route for ${req.method} ${path}`)];
        } else {
          const answer = await route[2](account, route[1].exec(path), raw.toString("utf8"), url.searchParams, req, raw);
          [status, body] = Array.isArray(answer) ? answer : [200, answer];
        }
      } catch (thrown) {
        [status, body] = [500, failure(10000, String(thrown?.stack ?? thrown))];
      }
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    });
  });
  await new Promise((resolve) => server.listen(port, "127.0.0.1", resolve));
  const { port: bound } = server.address();
  return { url: `http://127.0.0.1:${bound}/client/v4`, account, close: () => new Promise((r) => server.close(r)) };
}

export { formParts, script };

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      port: { type: "string", default: "8990" },
      subdomain: { type: "string", default: "gateway-test" },
      "no-subdomain": { type: "boolean" },
    },
  });
  const standIn = await startCloudflareStandIn({
    port: Number(values.port),
    subdomain: values["no-subdomain"] ? null : values.subdomain,
  });
  console.log(`Cloudflare API stand-in on ${standIn.url}`);
  setInterval(() => {
    while (standIn.account.unknown.length > 0) console.log(`unknown route: ${standIn.account.unknown.shift()}`);
  }, 500);
}
