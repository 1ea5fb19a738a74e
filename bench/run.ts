// `npm run bench`: the gateway (at its default LOG_LEVEL=info, and again at warn) against a naive
// receiver and two floors served the same way (wrangler dev / workerd) in the same run, load from
// autocannon, a local origin taking the forwards. Prints a table and writes
// bench/results/<time>.json. Flags: --requests N (new events per target, default 1500),
// --objects N (distinct objects, default 10000), --burst N (hot-object events, default 300),
// --e2e N (end-to-end samples, default 150), --connections N (default 16), --verify N (micro-bench
// iterations, default 20000), --skip-ops, --targets a,b (only these targets, for a quick look).
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { parseArgs } from "node:util";
import { hotObject, newEvents, SECRET } from "./bodies";
import { load, round, type LoadResult } from "./load";
import { BENCH_ADMIN_TOKEN, gateRequests, serve, type Served } from "./serve";
import { benchSearch } from "./search";
import { benchVerify } from "./verify";
import { benchSchemeVerify } from "./verify-schemes";
import { benchBindings } from "../fixtures/environments";

const ROOT = join(import.meta.dirname, "..");
const { values: flags } = parseArgs({
  options: {
    requests: { type: "string", default: "1500" },
    objects: { type: "string", default: "10000" },
    burst: { type: "string", default: "300" },
    e2e: { type: "string", default: "150" },
    connections: { type: "string", default: "16" },
    verify: { type: "string", default: "20000" },
    "skip-ops": { type: "boolean", default: false },
    targets: { type: "string" },
    "search-events": { type: "string", default: "100000" },
    "search-requests": { type: "string", default: "300" },
  },
});
const N = Number(flags.requests),
  OBJECTS = Number(flags.objects),
  BURST = Number(flags.burst),
  E2E = Number(flags.e2e);
const CONNECTIONS = Number(flags.connections);
const ORIGIN_PORT = 9100;

type Scenario = "new_events" | "first_redeliveries" | "redeliveries" | "hot_object";
const TARGETS = [
  { name: "gateway", config: join(ROOT, "wrangler.toml"), port: 8801 },
  // The same gateway with LOG_LEVEL=warn: its per-event info lines dropped, as a high-volume deployment
  // may set. Under wrangler dev every line also crosses to wrangler's Node process, which reformats it
  // and appends it to its debug log file; the naive receiver logs nothing.
  { name: "gateway_warn", config: join(ROOT, "wrangler.toml"), port: 8806 },
  { name: "platform_floor", config: join(ROOT, "bench/platform-floor/wrangler.toml"), port: 8802 },
  { name: "runtime_floor", config: join(ROOT, "bench/runtime-floor/wrangler.toml"), port: 8803 },
  { name: "naive_receiver", config: join(ROOT, "bench/naive-receiver/wrangler.toml"), port: 8805 },
  // The naive receiver writing the gateway's info lines: what those lines cost, apart from the rest.
  { name: "naive_receiver_logged", config: join(ROOT, "bench/naive-receiver/wrangler.toml"), port: 8807 },
] as const;
const SELECTED = flags.targets === undefined ? null : new Set(flags.targets.split(","));

/** Waits until the origin has taken no forward for a second (at most 30 s): the load's drain. */
async function drained(): Promise<void> {
  const count = async () =>
    ((await (await fetch(`http://127.0.0.1:${ORIGIN_PORT}/stats`)).json()) as { count: number }).count;
  let last = await count();
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 1000));
    const now = await count();
    if (now === last) return;
    last = now;
  }
}

const GATEWAY_VARS = benchBindings(`http://127.0.0.1:${ORIGIN_PORT}/webhooks`, {
  PORTONE_SECRET_KEY: SECRET,
  LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? "info",
  SEEN_HINT: process.env.BENCH_SEEN_HINT ?? "on",
  ADMIN_TOKEN: BENCH_ADMIN_TOKEN,
});
const isGateway = (name: string): boolean => name === "gateway" || name === "gateway_warn";
/** Each target's variables. */
const TARGET_VARS: Record<(typeof TARGETS)[number]["name"], Record<string, string>> = {
  gateway: GATEWAY_VARS,
  gateway_warn: { ...GATEWAY_VARS, LOG_LEVEL: "warn" },
  platform_floor: { ORIGIN_URL: `http://127.0.0.1:${ORIGIN_PORT}/webhooks` },
  runtime_floor: {},
  naive_receiver: { ORIGIN_URL: `http://127.0.0.1:${ORIGIN_PORT}/webhooks`, SECRET },
  naive_receiver_logged: { ORIGIN_URL: `http://127.0.0.1:${ORIGIN_PORT}/webhooks`, SECRET, LOG_LINES: "on" },
};

/** Forwards the origin has taken so far. */
async function originCount(): Promise<number> {
  return ((await (await fetch(`http://127.0.0.1:${ORIGIN_PORT}/stats`)).json()) as { count: number }).count;
}

function percentile(sorted: number[], p: number): number {
  return sorted.length ? (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number) : NaN;
}

/** Time from the provider's POST to the origin receiving the forward, for new events sent 4 at a time. */
async function endToEnd(
  gateway: Served,
  run: string,
): Promise<{ samples: number; p50: number; p99: number; max: number; lost: number }> {
  const bodies = await newEvents(`${run}_e2e`, E2E, E2E);
  const sentAt = new Map<string, number>();
  let index = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (index < bodies.length) {
        const body = bodies[index++] as string;
        const { link_ref, status } = JSON.parse(body) as { link_ref: string; status: string };
        sentAt.set(`${link_ref}:${status}`, Date.now());
        await (await fetch(`${gateway.url}/webhooks/portone/payment-link`, { method: "POST", body })).text();
      }
    }),
  );
  const deadline = Date.now() + 30_000;
  let arrivals: Record<string, number> = {};
  while (Date.now() < deadline) {
    arrivals = (
      (await (await fetch(`http://127.0.0.1:${ORIGIN_PORT}/stats`)).json()) as { arrivals: Record<string, number> }
    ).arrivals;
    if ([...sentAt.keys()].every((k) => k in arrivals)) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const latencies = [...sentAt]
    .filter(([k]) => k in arrivals)
    .map(([k, t]) => (arrivals[k] as number) - t)
    .sort((a, b) => a - b);
  return {
    samples: latencies.length,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies.at(-1) ?? NaN,
    lost: sentAt.size - latencies.length,
  };
}

function bundleSize(): { bytes: number; gzipBytes: number } {
  const out = mkdtempSync(join(tmpdir(), "bench-bundle-"));
  execFileSync(
    process.execPath,
    [join(ROOT, "node_modules/wrangler/bin/wrangler.js"), "deploy", "--dry-run", "--outdir", out],
    {
      cwd: ROOT,
      stdio: "ignore",
      env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
    },
  );
  const code = readFileSync(join(out, "index.js"));
  return { bytes: code.byteLength, gzipBytes: gzipSync(code).byteLength };
}

function countOps(): unknown {
  const output = execFileSync(
    process.execPath,
    [join(ROOT, "node_modules/vitest/vitest.mjs"), "run", "--config", "bench/vitest.ops.config.ts"],
    {
      cwd: ROOT,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const parse = (tag: string): unknown => {
    const line = output.split("\n").find((l) => l.includes(`${tag} `));
    return line ? JSON.parse(line.slice(line.indexOf(`${tag} `) + tag.length + 1)) : null;
  };
  return { per_event: parse("BENCH_OPS"), reconciliation_pass: parse("BENCH_RECONCILE") };
}

async function main(): Promise<void> {
  const run = `b${Date.now().toString(36)}`;
  const origin = spawn(process.execPath, [join(ROOT, "bench/origin.mjs"), String(ORIGIN_PORT)], { stdio: "ignore" });
  const results: Record<string, Record<string, LoadResult>> = {};
  let e2e: Awaited<ReturnType<typeof endToEnd>> | null = null;
  let gate: { delivered: number; gate_requests: number; per_delivered_event: number } | null = null;
  try {
    for (const target of TARGETS) {
      if (SELECTED !== null && !SELECTED.has(target.name)) continue;
      console.error(`serving ${target.name}…`);
      const served = await serve(target.name, target.config, target.port, TARGET_VARS[target.name]);
      try {
        const fresh = await newEvents(`${run}_${target.name}`, N, OBJECTS);
        const url = isGateway(target.name) ? `${served.url}/webhooks/portone/payment-link` : served.url;
        const hot = await hotObject(`${run}_${target.name}`, BURST);
        const hotUrl = url;
        await load(url, await newEvents(`${run}_${target.name}_warm`, 50, 50), 4, served.cpuMs); // warm up
        await drained();
        const gateBefore = target.name === "gateway" ? await gateRequests(served.url) : null;
        const deliveredBefore = await originCount();
        const newEventsResult = await load(url, fresh, CONNECTIONS, served.cpuMs, drained);
        if (gateBefore !== null) {
          const delivered = (await originCount()) - deliveredBefore;
          const asked = ((await gateRequests(served.url)).default ?? 0) - (gateBefore.default ?? 0);
          gate = { delivered, gate_requests: asked, per_delivered_event: round(asked / Math.max(1, delivered), 4) };
        }
        const scenarios: Record<Scenario, LoadResult> = {
          new_events: newEventsResult,
          // The first redelivery of each event (the gateway's ledger answers it and writes the KV marker),
          // then the later ones (the KV fast path).
          first_redeliveries: await load(url, fresh, CONNECTIONS, served.cpuMs, drained),
          redeliveries: await load(url, fresh, CONNECTIONS, served.cpuMs, drained),
          hot_object: await load(hotUrl, hot, CONNECTIONS, served.cpuMs, drained),
        };
        results[target.name] = scenarios;
        if (target.name === "gateway") e2e = await endToEnd(served, run);
      } finally {
        await served.stop();
      }
    }
  } finally {
    origin.kill();
  }

  const ratios: Record<string, Record<string, number>> = {};
  for (const [variant, prefix] of [
    ["gateway", ""],
    ["gateway_warn", "warn_"],
  ] as const) {
    const gateway = results[variant] as Record<Scenario, LoadResult> | undefined;
    if (gateway === undefined) continue;
    for (const floor of ["naive_receiver", "naive_receiver_logged", "platform_floor", "runtime_floor"] as const) {
      for (const scenario of Object.keys(gateway) as Scenario[]) {
        const f = results[floor]?.[scenario];
        const g = gateway[scenario];
        if (!f || (prefix !== "" && floor !== "naive_receiver")) continue;
        const ratio = (key: keyof LoadResult): number => round(g[key] / Math.max(0.001, f[key]), 2);
        ratios[`${prefix}${scenario}_vs_${floor}`] = {
          rps: ratio("rps"),
          p99: round(g.p99 / Math.max(1, f.p99), 2),
          cpu: ratio("cpuMsPerRequest"),
          cpu_with_drain: ratio("cpuMsPerEventWithDrain"),
          workerd_cpu_with_drain: ratio("workerdCpuMsPerEventWithDrain"),
        };
      }
    }
  }
  console.error("read model search over seeded events…");
  const search =
    Number(flags["search-events"]) > 0
      ? await benchSearch(ROOT, 8804, GATEWAY_VARS, Number(flags["search-events"]), Number(flags["search-requests"]))
      : null;
  console.error("verification micro-benchmark…");
  const verify = await benchVerify(Number(flags.verify));
  const schemeVerify = await benchSchemeVerify(Number(flags.verify));
  console.error("bundle size…");
  const bundle = bundleSize();
  const ops = flags["skip-ops"] ? null : (console.error("counting operations…"), countOps());

  printTable(results, ratios, e2e, verify, bundle);
  const report = {
    at: new Date().toISOString(),
    node: process.version,
    flags,
    results,
    ratios,
    end_to_end_ms: e2e,
    gate_requests_new_events: gate,
    search,
    verify,
    scheme_verify: schemeVerify,
    bundle,
    ops,
  };
  mkdirSync(join(ROOT, "bench/results"), { recursive: true });
  const file = join(ROOT, "bench/results", `${report.at.replace(/[:.]/g, "-")}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nread model search: ${JSON.stringify(search)}`);
  console.log(
    `provider scheme verification / one raw WebCrypto HMAC: ${Object.entries(schemeVerify.schemes)
      .map(([name, r]) => `${name} ${r.overRawHmac}`)
      .join(", ")}`,
  );
  console.log(`ops: ${JSON.stringify(ops)}`);
  console.log(`gate requests (default, no limits) during new events: ${JSON.stringify(gate)}`);
  console.log(`results written to ${file}`);
}

function printTable(
  results: Record<string, Record<string, LoadResult>>,
  ratios: Record<string, Record<string, number>>,
  e2e: unknown,
  verify: unknown,
  bundle: unknown,
): void {
  console.log(
    "\ntarget          scenario            req    rps    p50 ms  p99 ms  max ms  errors  cpu ms/req  cpu+drain ms/req  workerd+drain",
  );
  for (const [target, scenarios] of Object.entries(results)) {
    for (const [scenario, r] of Object.entries(scenarios)) {
      console.log(
        `${target.padEnd(15)} ${scenario.padEnd(18)} ${String(r.requests).padStart(5)} ${String(r.rps).padStart(6)} ${String(r.p50).padStart(7)} ${String(r.p99).padStart(7)} ${String(r.max).padStart(7)} ${String(r.errors).padStart(7)} ${String(r.cpuMsPerRequest).padStart(11)} ${String(r.cpuMsPerEventWithDrain).padStart(17)} ${String(r.workerdCpuMsPerEventWithDrain).padStart(14)}`,
      );
    }
  }
  console.log("\ngateway / floor          rps ratio  p99 ratio  cpu ratio  cpu+drain ratio  workerd+drain ratio");
  for (const [name, r] of Object.entries(ratios))
    console.log(
      `${name.padEnd(34)} ${String(r.rps).padStart(5)} ${String(r.p99).padStart(10)} ${String(r.cpu).padStart(10)} ${String(r.cpu_with_drain).padStart(16)} ${String(r.workerd_cpu_with_drain).padStart(20)}`,
    );
  console.log(`\nend to end (POST to origin), ms: ${JSON.stringify(e2e)}`);
  console.log(`verification, ns/op: ${JSON.stringify(verify)}`);
  console.log(`bundle: ${JSON.stringify(bundle)}`);
}

await main();
