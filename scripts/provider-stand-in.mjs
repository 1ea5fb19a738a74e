#!/usr/bin/env node
// A stand-in for the status APIs that confirm the hints of the API-confirmed schemes (Midtrans and
// Payment Options), for trying them locally: `.dev.vars.example` points their sources' apiBaseUrl here.
// It answers with the documented shapes (src/egress/status-apis.ts): Midtrans under /midtrans
// (`GET /v2/<id>/status`, HTTP 200 with `"status_code":"404"` for an unknown transaction), Payment
// Options under /payment-options (`GET /api/v1/server-to-server-interface/transaction/status/<id>`,
// HTTP 404 for an unknown one). What it knows is set over HTTP, by path:
//   curl -X PUT localhost:9101/__answers -d '{"/midtrans/v2/<id>/status":{"transaction_status":"settlement",...}}'
// (`node scripts/provider-vectors.mjs --post URL` sets the answers of its vectors itself); a PUT adds
// to what it knows, `DELETE /__answers` forgets all. GET /__calls lists the calls it took, with
// whether each carried the key its provider expects.
// Usage: npm run provider-stand-in [-- --port 9101]
import http from "node:http";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";

export const PROVIDER_STAND_IN_PORT = 9101;

const json = (res, status, body) =>
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));

/** What the provider answers for a path it does not know. */
function unknown(res, path) {
  if (path.startsWith("/midtrans/"))
    return json(res, 200, { status_code: "404", status_message: "Transaction doesn't exist." });
  return json(res, 404, { success: false, status_code: 404, message: "Transaction not found" });
}

/** Whether a call carries a key the way its provider documents it (never the key's value). */
function keyed(req, path) {
  const auth = req.headers.authorization ?? "";
  if (path.startsWith("/midtrans/")) return /^Basic [A-Za-z0-9+/=]+$/.test(auth);
  return auth !== "" && req.headers["x-api-key"] === auth;
}

/** Starts the stand-in; resolves to its server, what it knows and the calls it took. */
export function startProviderStandIn(port = PROVIDER_STAND_IN_PORT, host = "127.0.0.1") {
  const stand = { answers: new Map(), calls: [] };
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const path = new URL(req.url ?? "/", "http://stand-in").pathname;
      if (path === "/__answers" && req.method === "PUT") {
        let body;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        } catch {
          return json(res, 400, { error: "a JSON object of path to answer" });
        }
        for (const [at, answer] of Object.entries(body ?? {})) stand.answers.set(at, answer);
        return json(res, 200, { known: stand.answers.size });
      }
      if (path === "/__answers" && req.method === "DELETE") {
        stand.answers.clear();
        return json(res, 200, { known: 0 });
      }
      if (path === "/__calls") return json(res, 200, stand.calls);
      const isKeyed = keyed(req, path);
      stand.calls.push({ call: `${req.method} ${path}`, keyed: isKeyed });
      if (req.method !== "GET") return json(res, 405, { error: "only GET is served" });
      if (!isKeyed) return json(res, 401, { status_code: "401", status_message: "Unauthorized" });
      const answer = stand.answers.get(path);
      return answer === undefined ? unknown(res, path) : json(res, 200, answer);
    });
  });
  return new Promise((resolve) => server.listen(port, host, () => resolve({ server, stand })));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { port: { type: "string", default: String(PROVIDER_STAND_IN_PORT) } } });
  const port = Number(values.port);
  await startProviderStandIn(port);
  console.log(`Provider status APIs stand-in on http://127.0.0.1:${port} (/midtrans, /payment-options)`);
}
