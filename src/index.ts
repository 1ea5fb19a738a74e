// The gateway Worker: routes and middleware wiring. Each inbound webhook is bounded, verified,
// deduplicated and recorded by its payment object's Durable Object before it is acknowledged.

import { Hono } from "hono";
import { admin } from "./admin/routes";
import { consoleApp } from "./admin/console/app";
import { welcome } from "./admin/console/welcome";
import { loadConfig } from "./config";
import type { AppEnv } from "./env";
import { errorResponse, notFound, onError } from "./lib/http-errors";
import { rawBody } from "./ingress/raw-body";
import { MAX_BODY_BYTES } from "./lib/limits";
import { log, setLogLevel } from "./lib/log";
import { errorText } from "./lib/result";
import { runPass } from "./reconcile/pass";
import { wakeStranded } from "./reconcile/watchdog";
import { clock } from "./lib/clock";
import { recordVerifiedEvent } from "./ingress/accept";
import { requireConfig } from "./ingress/require-config";
import { sourceAllowlist } from "./ingress/source-allowlist";
import { portOneKind, verifyPortOneWebhook } from "./ingress/portone";
import { recordRefundHint } from "./ingress/portone-refund";
import { requireSource, verifySourceWebhook } from "./ingress/sources";
import { recordSchemeWebhook } from "./ingress/schemes";
import { SCHEME_NAMES } from "./providers/names";
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

app.use("/webhooks/*", sourceAllowlist());
app.use("/webhooks/*", requireConfig());

app.post("/webhooks/portone/refund", rawBody({ maxBytes: MAX_BODY_BYTES }), recordRefundHint);
app.post(
  "/webhooks/portone/:kind",
  portOneKind(),
  rawBody({ maxBytes: MAX_BODY_BYTES }),
  verifyPortOneWebhook(),
  recordVerifiedEvent,
);
for (const scheme of ["hmac", "standard"] as const) {
  app.post(
    `/webhooks/${scheme}/:source`,
    requireSource(scheme),
    rawBody({ maxBytes: MAX_BODY_BYTES }),
    verifySourceWebhook(),
    recordVerifiedEvent,
  );
}
for (const scheme of SCHEME_NAMES) {
  app.post(
    `/webhooks/${scheme}/:source`,
    requireSource(scheme),
    rawBody({ maxBytes: MAX_BODY_BYTES }),
    recordSchemeWebhook,
  );
}
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
