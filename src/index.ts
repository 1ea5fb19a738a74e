// The gateway Worker: routes and middleware wiring. Each inbound webhook is bounded, verified,
// deduplicated and recorded by its payment object's Durable Object before it is acknowledged.

import { Hono } from "hono";
import { admin } from "./admin/routes";
import { consoleApp } from "./admin/console/app";
import { welcome } from "./admin/console/welcome";
import { loadConfig } from "./config";
import type { AppEnv } from "./env";
import { errorResponse, notFound, onError } from "./lib/http-errors";
import { log, setLogLevel } from "./lib/log";
import { errorText } from "./lib/result";
import { runPass } from "./reconcile/pass";
import { wakeStranded } from "./reconcile/watchdog";
import { clock } from "./lib/clock";
import { countRefusals } from "./ingress/rejections";
import { recordProven } from "./ingress/record";
import { requireConfig } from "./ingress/require-config";
import { verifyWebhook } from "./ingress/verify";
import { noteAddress } from "./alerts/report";

// The main module may export only handlers and Durable Object classes: workerd refuses anything else.
export { Ledger } from "./ledger/ledger";
export { Gate } from "./egress/gate";
export { Alerts } from "./alerts/alerts";
export { ReadModelWriter } from "./readmodel/writer";

const app = new Hono<AppEnv>();

app.use("*", async (c, next) => {
  const config = loadConfig(c.env);
  c.set("config", config);
  setLogLevel(config.logLevel);
  // Alerts link to the console at GATEWAY_URL, else at the address the gateway was last reached at.
  if (config.publicUrl === null) noteAddress(c.env, (p) => c.executionCtx.waitUntil(p), c.req.url);
  await next();
});

app.use("/webhooks/*", countRefusals());
app.use("/webhooks/*", requireConfig());

// Every webhook route has one shape: the configuration checked (require-config.ts), then the route
// resolved, its bounded body read and proven by the route's verifier (verify.ts), and what it proved
// recorded by one handler (record.ts).
app.post("/webhooks/:provider/:name/:token?", verifyWebhook(), recordProven);
app.all("/webhooks/*", (c) =>
  c.req.method === "POST"
    ? notFound(c)
    : errorResponse(405, "method_not_allowed", `Webhooks are delivered with POST, not ${c.req.method}.`, {
        Allow: "POST",
      }),
);

app.get("/", welcome);
app.route("/admin", admin);
app.route("/console", consoleApp);

app.notFound(notFound);
app.onError(onError);

export default {
  fetch: app.fetch,
  /** The cron trigger (every 5 minutes): one reconciliation pass. A configuration error is logged. */
  scheduled(_controller, env, ctx) {
    const config = loadConfig(env);
    setLogLevel(config.logLevel);
    ctx.waitUntil(
      runPass(env, config, "cron").catch((thrown: unknown) => {
        log("error", "reconciliation pass failed", { error: errorText(thrown) });
      }),
    );
    ctx.waitUntil(
      wakeStranded(env, clock.now()).catch((thrown: unknown) => {
        log("error", "watchdog pass failed", { error: errorText(thrown) });
      }),
    );
  },
} satisfies ExportedHandler<Env>;
