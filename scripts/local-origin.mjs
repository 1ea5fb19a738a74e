#!/usr/bin/env node
// A stand-in for the merchant's server, for trying the gateway locally: listens where
// .dev.vars.example's MERCHANT_ORIGIN_URL points (http://127.0.0.1:9000/webhooks), verifies each
// forwarded request with the standardwebhooks library, checks its body against the published schema
// (schemas/events.schema.json, with Ajv), prints it, and answers 204 (or 500 with --fail, to watch
// retries; or, with --early, 404, 409 and 425 to each new event's first three attempts, as a system that
// learns of the order late). Usage: npm run origin [-- --port 9000] [-- --fail | --early]
import { readFileSync, existsSync } from "node:fs";
import http from "node:http";
import { parse } from "dotenv";
import { parseArgs } from "node:util";
import { Webhook } from "standardwebhooks";
import { Ajv2020 } from "ajv/dist/2020.js";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "9000" },
    fail: { type: "boolean", default: false },
    early: { type: "boolean", default: false },
  },
});
// The local defaults overlaid by .dev.vars, as `npm run dev` merges them; parsed as wrangler reads
// them (quotes, comments), not with a regex that would keep the quotes.
const own = existsSync(".dev.vars") ? parse(readFileSync(".dev.vars", "utf8")) : {};
const varsFile = "FORWARD_SIGNING_SECRET" in own ? ".dev.vars" : ".dev.vars.example";
const secret = (
  own.FORWARD_SIGNING_SECRET ?? parse(readFileSync(".dev.vars.example", "utf8")).FORWARD_SIGNING_SECRET
)?.trim();
if (!secret) {
  console.error(`FORWARD_SIGNING_SECRET is not set in ${varsFile}`);
  process.exit(1);
}
const webhook = new Webhook(secret);
/** --early: each event's attempts so far, and when the first came. */
const attempts = new Map();
/** 404, 409, 425 for an event's first three attempts, then null (take it), logging how long it took. */
function earlyAnswer(id) {
  const seen = attempts.get(id) ?? { n: 0, first: Date.now() };
  seen.n += 1;
  attempts.set(id, seen);
  const status = [404, 409, 425][seen.n - 1];
  if (status === undefined)
    console.log(
      `TAKEN    ${id} on attempt ${seen.n}, ${((Date.now() - seen.first) / 1000).toFixed(1)} s after the first`,
    );
  return status ?? null;
}
const seen = new Set();
const schema = JSON.parse(readFileSync(new URL("../schemas/events.schema.json", import.meta.url), "utf8"));
const valid = new Ajv2020({ allErrors: true }).compile(schema);
/** " (schema: ok)", or what the published schema refuses in the body. */
function schemaVerdict(event) {
  if (valid(event)) return " schema=ok";
  const first = valid.errors?.[0];
  return ` SCHEMA-INVALID (${valid.errors?.length} errors; first: ${first?.instancePath} ${first?.message})`;
}

http
  .createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      let event;
      try {
        event = webhook.verify(body, req.headers);
      } catch (err) {
        console.log(`REJECTED ${req.headers["webhook-id"] ?? "-"}: ${err.message}`);
        return res.writeHead(400).end();
      }
      if (values.fail) {
        console.log(`FAILING  ${event.id} ${event.type} (--fail)`);
        return res.writeHead(500).end();
      }
      const early = values.early ? earlyAnswer(event.id) : null;
      if (early !== null) {
        console.log(`NOT YET  ${event.id} ${event.type} answered ${early} (--early)`);
        return res.writeHead(early).end();
      }
      const repeat = seen.has(event.id) ? " (repeat: drop it)" : "";
      seen.add(event.id);
      console.log(
        `${new Date().toISOString()} ${event.id} ${event.type} ${event.object_ref} previous=${event.previous_status} source=${event.source}${schemaVerdict(event)} data=${JSON.stringify(event.data)}${repeat}`,
      );
      res.writeHead(204).end();
    });
  })
  .listen(Number(values.port), "127.0.0.1", () =>
    console.log(`origin on http://127.0.0.1:${values.port}/webhooks (secret from ${varsFile})`),
  );
