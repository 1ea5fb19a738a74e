// GET /admin/metrics: the Prometheus text format (0.0.4), from state the gateway keeps already: the
// read model (events, deliveries by destination and state, delivery times), the gates (breaker, pause),
// the alerts object (open alerts, and the refused webhooks it counts in batches). A scrape costs one D1
// batch, one request per destination's gate and two to the alerts object; nothing per event.

import { Hono, type Context } from "hono";
import type { AppEnv } from "../env";
import { ALERT_KINDS } from "../alerts/kinds";
import { alertStore } from "../alerts/report";
import { clock } from "../lib/clock";
import { DELIVERY_BUCKETS_S, metricFigures } from "../readmodel/metrics";
import { destinationViews } from "./destinations";

type Labels = Record<string, string>;

/** One metric family: its help, type and samples. */
interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: "counter" | "gauge" | "histogram";
  readonly samples: ReadonlyArray<readonly [suffix: string, labels: Labels, value: number]>;
}

const escape = (v: string): string => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
const labelText = (labels: Labels): string => {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escape(v)}"`);
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
};

/** The families as the text format writes them. */
export function exposition(families: readonly Family[]): string {
  const lines: string[] = [];
  for (const f of families) {
    lines.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`);
    for (const [suffix, labels, value] of f.samples) lines.push(`${f.name}${suffix}${labelText(labels)} ${value}`);
  }
  return `${lines.join("\n")}\n`;
}

async function families(c: Context<AppEnv>): Promise<Family[]> {
  const destinations = await destinationViews(c);
  const names = destinations.map((d) => d.name);
  const store = alertStore(c.env);
  const [figures, open, rejected] = await Promise.all([
    metricFigures(c.env.READ_MODEL, names),
    store.list("open"),
    store.rejections(),
  ]);
  const now = clock.now();
  const of = (name: string) => figures.destinations.get(name);
  const histogram: Array<readonly [string, Labels, number]> = [];
  for (const name of names) {
    const d = of(name);
    DELIVERY_BUCKETS_S.forEach((le, i) =>
      histogram.push(["_bucket", { destination: name, le: String(le) }, d?.buckets[i] ?? 0]),
    );
    histogram.push(["_bucket", { destination: name, le: "+Inf" }, d?.count ?? 0]);
    histogram.push(["_sum", { destination: name }, (d?.sum_ms ?? 0) / 1000]);
    histogram.push(["_count", { destination: name }, d?.count ?? 0]);
  }
  return [
    {
      name: "gateway_events_total",
      help: "Genuine events recorded, by provider, kind and outcome (accepted or stale), since the first.",
      type: "counter",
      samples: figures.events.map(
        (e) => ["", { provider: e.provider, kind: e.kind, outcome: e.outcome }, e.n] as const,
      ),
    },
    {
      name: "gateway_deliveries",
      help: "Events by destination and delivery state (pending, delivered, dead), from the read model.",
      type: "gauge",
      samples: names.flatMap((name) =>
        (["pending", "delivered", "dead"] as const).map(
          (state) => ["", { destination: name, state }, of(name)?.[state] ?? 0] as const,
        ),
      ),
    },
    {
      name: "gateway_oldest_pending_seconds",
      help: "Age of the oldest event waiting for the destination, in seconds (0: none).",
      type: "gauge",
      samples: names.map((name) => {
        const oldest = of(name)?.oldest_pending_at ?? null;
        return ["", { destination: name }, oldest === null ? 0 : Math.max(0, (now - oldest) / 1000)] as const;
      }),
    },
    {
      name: "gateway_breaker_open",
      help: "1 while the destination's circuit breaker is open or half-open, else 0.",
      type: "gauge",
      samples: destinations.map((d) => ["", { destination: d.name }, d.breaker === "closed" ? 0 : 1] as const),
    },
    {
      name: "gateway_destination_paused",
      help: "1 while an operator has paused the destination, else 0.",
      type: "gauge",
      samples: destinations.map((d) => ["", { destination: d.name }, d.state === "paused" ? 1 : 0] as const),
    },
    {
      name: "gateway_alerts_open",
      help: "Open alerts by kind.",
      type: "gauge",
      samples: Object.keys(ALERT_KINDS).map(
        (kind) => ["", { kind }, open.filter((a) => a.kind === kind).length] as const,
      ),
    },
    {
      name: "gateway_webhooks_rejected_total",
      help: "Webhooks answered 4xx or 503, by route pattern and error code (counted in batches, trailing by about a second).",
      type: "counter",
      samples: rejected.map((r) => ["", { route: r.route, reason: r.reason }, r.n] as const),
    },
    {
      name: "gateway_delivery_seconds",
      help: "Time from receipt to delivery, by destination, in seconds.",
      type: "histogram",
      samples: histogram,
    },
  ];
}

export const metricsApi = new Hono<AppEnv>();

metricsApi.get("/", async (c) =>
  c.body(exposition(await families(c)), 200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" }),
);
