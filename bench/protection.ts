// `npm run bench:protection`: the destination gate under load, against the gateway under
// `wrangler dev` and a local origin that measures what reaches it (requests in flight, requests per
// 1-second window, order per object, webhook-ids taken twice).
// (1) Surge: 2,000 events over 500 objects for a destination with maxPerSecond 20 (--per-second) and
//     maxConcurrency 4 (an origin answering in 50 ms). Target: never more than 4 in flight nor 20 in
//     any 1-second window (+10 %), all 2,000 arrive, in order per object.
// (2) Outage: a stream of events while the origin is down for 2 minutes, then back. Target: after
//     the breaker opens, at most one probe per 30 s reaches it; after, the backlog drains within the
//     limits, nothing lost or taken twice, order kept; time to drain reported.
import http from "node:http";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { PAYMENT_LINK } from "../src/providers/portone/kinds";
import { withSignature } from "../src/providers/portone/sign";
import { paymentLinkSample } from "../fixtures/portone-samples";
import { benchBindings } from "../fixtures/environments";
import { load } from "./load";
import { BENCH_ADMIN_TOKEN, gateRequests, serve } from "./serve";

const ROOT = join(import.meta.dirname, "..");
const SECRET = "whsec_bGltaXRlZC10ZXN0LXNlY3JldC0wMTIzNDU=";
const { values: flags } = parseArgs({
  options: {
    events: { type: "string", default: "2000" },
    objects: { type: "string", default: "500" },
    "outage-seconds": { type: "string", default: "120" },
    "cron-seconds": { type: "string", default: "60" },
    /** The limited destination's maxPerSecond: 30 (or any that does not divide 1000) checks fractional slots. */
    "per-second": { type: "string", default: "20" },
  },
});

interface Arrival {
  readonly at: number;
  readonly id: string;
  readonly object: string;
  readonly amount: number;
  readonly ok: boolean;
}

/** The origin: counts in flight and arrivals on /limited; `down` answers 503 at once. */
function startOrigin(port: number) {
  const state = { inFlight: 0, maxInFlight: 0, down: false, arrivals: [] as Arrival[] };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (!req.url?.startsWith("/limited")) return void res.writeHead(204).end();
      const env = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
        id: string;
        object_ref: string;
        data: { amount: number };
      };
      const record = (ok: boolean) =>
        state.arrivals.push({ at: Date.now(), id: env.id, object: env.object_ref, amount: env.data.amount, ok });
      if (state.down) {
        record(false);
        return void res.writeHead(503).end();
      }
      state.inFlight += 1;
      state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
      setTimeout(() => {
        state.inFlight -= 1;
        record(true);
        res.writeHead(204).end();
      }, 50);
    });
  });
  server.listen(port, "127.0.0.1");
  return { state, close: () => server.close() };
}

function maxPerSecond(arrivals: readonly Arrival[]): number {
  const times = arrivals.map((a) => a.at).sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while ((times[i] as number) - (times[j] as number) >= 1000) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

function orderKept(arrivals: readonly Arrival[]): boolean {
  const last = new Map<string, number>();
  for (const a of arrivals.filter((x) => x.ok)) {
    if ((last.get(a.object) ?? -1) > a.amount) return false;
    last.set(a.object, a.amount);
  }
  return true;
}

/** `count` distinct events over `objects` payment links: each object's events carry rising amounts. */
async function bodies(run: string, count: number, objects: number): Promise<string[]> {
  return Promise.all(
    Array.from({ length: count }, (_, i) =>
      withSignature(
        {
          ...paymentLinkSample,
          link_ref: `${run}_${i % objects}`,
          status: "Processing",
          amount: 1000 + Math.floor(i / objects),
        },
        PAYMENT_LINK,
        "PORTONE_SECRET",
      ).then((b) => JSON.stringify(b)),
    ),
  );
}

async function until(check: () => boolean, timeoutMs: number): Promise<number | null> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (check()) return Date.now() - started;
    await new Promise((r) => setTimeout(r, 250));
  }
  return null;
}

async function main(): Promise<void> {
  const originPort = 9200;
  const origin = startOrigin(originPort);
  const vars = benchBindings(`http://127.0.0.1:${originPort}/default`, {
    LOG_LEVEL: "warn",
    ADMIN_TOKEN: BENCH_ADMIN_TOKEN,
    DESTINATIONS: JSON.stringify({
      limited: {
        url: `http://127.0.0.1:${originPort}/limited`,
        secret: SECRET,
        maxPerSecond: Number(flags["per-second"]),
        maxConcurrency: 4,
      },
    }),
  });
  const served = await serve("protection", join(ROOT, "wrangler.toml"), 8805, vars);
  const report: Record<string, unknown> = { at: new Date().toISOString() };
  try {
    const url = `${served.url}/webhooks/portone/payment-link`;
    const [events, objects] = [Number(flags.events), Number(flags.objects)];
    console.error(`surge: ${events} events over ${objects} objects…`);
    const started = Date.now();
    const gateBefore = await gateRequests(served.url);
    await load(url, await bodies(`surge${Date.now().toString(36)}`, events, objects), 16, served.cpuMs);
    const drained = await until(() => origin.state.arrivals.filter((a) => a.ok).length >= events, 600_000);
    const ok = origin.state.arrivals.filter((a) => a.ok);
    const gateAfter = await gateRequests(served.url);
    const asked = (name: string) => (gateAfter[name] ?? 0) - (gateBefore[name] ?? 0);
    report.surge = {
      gate_requests_per_delivered_event: {
        limited: Math.round((asked("limited") / Math.max(1, events)) * 1e4) / 1e4,
        default: Math.round((asked("default") / Math.max(1, events)) * 1e4) / 1e4,
      },
      events,
      objects,
      arrived: ok.length,
      distinct_ids: new Set(ok.map((a) => a.id)).size,
      max_in_flight: origin.state.maxInFlight,
      max_in_any_second: maxPerSecond(ok),
      order_kept: orderKept(origin.state.arrivals),
      seconds_to_all: drained === null ? null : Math.round((Date.now() - started) / 100) / 10,
    };
    console.error(JSON.stringify(report.surge));

    console.error("outage: origin down during a stream…");
    origin.state.arrivals.length = 0;
    origin.state.maxInFlight = 0;
    const stream = await bodies(`outage${Date.now().toString(36)}`, 300, 100);
    const outageMs = Number(flags["outage-seconds"]) * 1000;
    const streamStart = Date.now();
    let downAt = 0;
    let upAt = 0;
    for (let i = 0; i < stream.length; i++) {
      const elapsed = Date.now() - streamStart;
      if (!origin.state.down && downAt === 0 && elapsed >= 10_000) {
        origin.state.down = true;
        downAt = Date.now();
      }
      if (origin.state.down && Date.now() - downAt >= outageMs) {
        origin.state.down = false;
        upAt = Date.now();
      }
      await fetch(url, { method: "POST", body: stream[i] });
      await new Promise((r) => setTimeout(r, (outageMs + 20_000) / stream.length));
    }
    if (origin.state.down) {
      await new Promise((r) => setTimeout(r, Math.max(0, downAt + outageMs - Date.now())));
      origin.state.down = false;
      upAt = Date.now();
    }
    // The cron (every 5 minutes when deployed) runs the alarms' watchdog: fired here every
    // --cron-seconds while the backlog drains, so an alarm workerd's local runtime lost is re-armed.
    let cronPasses = 0;
    const cron = setInterval(
      () => {
        cronPasses += 1;
        void fetch(`${served.url}/__scheduled?cron=*/5+*+*+*+*`).catch(() => undefined);
      },
      Number(flags["cron-seconds"]) * 1000,
    );
    const drainedAfter = await until(
      () => new Set(origin.state.arrivals.filter((a) => a.ok).map((a) => a.id)).size >= stream.length,
      600_000,
    ).finally(() => clearInterval(cron));
    const during = origin.state.arrivals.filter((a) => a.at >= downAt && a.at < upAt);
    const failures = during.filter((a) => !a.ok).map((a) => a.at);
    // After the breaker opened (the fifth failure), the gaps between requests that reached the origin.
    const afterOpen = failures.slice(5);
    const gaps = afterOpen.slice(1).map((t, i) => Math.round((t - (afterOpen[i] as number)) / 1000));
    const okAll = origin.state.arrivals.filter((a) => a.ok);
    const ids = okAll.map((a) => a.id);
    report.outage = {
      events: stream.length,
      outage_seconds: Math.round((upAt - downAt) / 1000),
      requests_during_outage: during.length,
      requests_after_breaker_opened: afterOpen.length,
      min_gap_between_probes_s: gaps.length ? Math.min(...gaps) : null,
      arrived: new Set(ids).size,
      taken_twice: ids.length - new Set(ids).size,
      order_kept: orderKept(origin.state.arrivals),
      max_in_flight: origin.state.maxInFlight,
      max_in_any_second: maxPerSecond(okAll.filter((a) => a.at >= upAt)),
      cron_passes_while_draining: cronPasses,
      seconds_to_drain_after_back: drainedAfter === null ? null : Math.round((Date.now() - upAt) / 100) / 10,
    };
    console.error(JSON.stringify(report.outage));
  } finally {
    await served.stop();
    origin.close();
  }
  mkdirSync(join(ROOT, "bench/results"), { recursive: true });
  const file = join(ROOT, "bench/results", `protection-${String(report.at).replace(/[:.]/g, "-")}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(JSON.stringify(report, null, 2));
}

await main();
