#!/usr/bin/env node
// A stand-in for PortOne's API, for trying reconciliation locally (and for the browser tests). It
// answers with the documented shapes (docs/portone-api.md): transaction-details and the
// subscription endpoints under `content`, fetch-all-payments under `body.content`, unknown references
// as HTTP 400 with status_code 4096 / 4001. What it knows is set over HTTP:
//   curl -X PUT localhost:9100/__state -d '{"payments":{"<order_ref>":{"status":"Success","amount":500,"currency":"VND"}}}'
// (also "links", "subscriptions", "charges" (order_ref -> list) and "listed" (fetch-all-payments)).
// GET /__calls lists the calls it took. Point PORTONE_API_BASE_URL at it.
// Usage: npm run portone-stand-in [-- --port 9100]
import http from "node:http";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";

const empty = () => ({ payments: {}, links: {}, subscriptions: {}, charges: {}, listed: [] });

const json = (res, status, body) =>
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
const content = (res, value) => json(res, 200, { content: value, status_code: "2000", status_reason: "SUCCESS" });
const unknown = (res, code) =>
  json(res, 400, {
    message: "Transaction record with given reference not found",
    status_code: code,
    status_reason: "INVALID_REFERENCE",
  });

/** Starts the stand-in; resolves to its server, its state and the calls it took. */
export function startPortOneStandIn(port = 9100, host = "127.0.0.1") {
  const stand = { state: empty(), calls: [] };
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      const body = raw === "" ? {} : JSON.parse(raw);
      const path = new URL(req.url ?? "/", "http://stand-in").pathname;
      if (path === "/__state" && req.method === "PUT") {
        stand.state = { ...empty(), ...body };
        return json(res, 200, { ok: true });
      }
      if (path === "/__calls") return json(res, 200, stand.calls);
      stand.calls.push(`${req.method} ${path}`);
      const { payments, links, subscriptions, charges, listed } = stand.state;
      let m;
      if ((m = /^\/api\/[^/]+\/transaction-details$/.exec(path))) {
        const p = payments[body.order_ref];
        return p ? content(res, { order_ref: body.order_ref, ...p }) : unknown(res, "4096");
      }
      if ((m = /^\/api\/transaction\/([^/]+)\/status$/.exec(path))) {
        const merchantRef = decodeURIComponent(m[1]);
        const found = Object.entries(payments).find(([, p]) => p.merchant_order_ref === merchantRef);
        return found ? content(res, { order_ref: found[0], status: found[1].status }) : unknown(res, "4096");
      }
      if ((m = /^\/api\/paymentLink\/([^/]+)\/fetch-status$/.exec(path))) {
        const l = links[decodeURIComponent(m[1])];
        return l
          ? content(res, { paymentLinkRef: decodeURIComponent(m[1]), transactionsList: [], ...l })
          : unknown(res, "4096");
      }
      if ((m = /^\/api\/subscription\/([^/]+)\/txns-records$/.exec(path)))
        return content(res, charges[decodeURIComponent(m[1])] ?? []);
      if ((m = /^\/api\/subscription\/([^/]+)$/.exec(path))) {
        const s = subscriptions[decodeURIComponent(m[1])];
        return s ? content(res, s) : unknown(res, "4001");
      }
      if (/^\/api\/merchant\/[^/]+\/fetch-all-payments$/.test(path)) {
        const { page = 1, size = 50 } = body;
        const total_pages = Math.max(1, Math.ceil(listed.length / size));
        const body_ = {
          content: listed.slice((page - 1) * size, page * size),
          total_pages,
          total_elements: listed.length,
        };
        return json(res, 200, { body: body_, status_code: "2000" });
      }
      return json(res, 404, { message: `no stand-in for ${path}` });
    });
  });
  return new Promise((resolve) => server.listen(port, host, () => resolve({ server, stand })));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { port: { type: "string", default: "9100" } } });
  const { server } = await startPortOneStandIn(Number(values.port));
  const { port } = server.address();
  console.log(`PortOne API stand-in on http://127.0.0.1:${port} (set PORTONE_API_BASE_URL to it)`);
}
