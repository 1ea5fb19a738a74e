// The benchmark's merchant origin: answers 204 to every forwarded event and remembers when each
// arrived, by the object reference in its envelope (GET /stats returns them).
import http from "node:http";

const port = Number(process.argv[2] ?? 9100);
const arrivals = {};
let count = 0;
http
  .createServer((req, res) => {
    if (req.method === "GET") {
      res.writeHead(200, { "content-type": "application/json" });
      return res.end(JSON.stringify({ count, arrivals }));
    }
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      count += 1;
      try {
        const envelope = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        arrivals[`${envelope.object_ref}:${envelope.status}`] ??= Date.now();
      } catch {}
      res.writeHead(204).end();
    });
  })
  .listen(port, "127.0.0.1", () => console.log(`origin listening on ${port}`));
