// `npm run bench:profile -- [--new | --kv-hit] [--requests N]`: a CPU profile of the gateway under
// `wrangler dev`, taken through its inspector (Chrome DevTools protocol) while autocannon replays
// first redeliveries (or new events, or redeliveries answered from the KV hint), then the
// functions with the most self time. Start the gateway first with `npm run dev -- --inspector-port 9230`.
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import WebSocket from "ws";
import { newEvents } from "./bodies";
import { load } from "./load";

/** The profile reads the isolate's own time; the processes' CPU is not sampled here. */
const NO_CPU = () => ({ all: 0, workerd: 0 });

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const { values } = parseArgs({
  options: {
    inspector: { type: "string", default: "http://127.0.0.1:9230" },
    url: { type: "string", default: "http://127.0.0.1:8787" },
    requests: { type: "string", default: "3000" },
    /** Profile new events (and their forwarding for as long as --drain-seconds) instead of redeliveries. */
    new: { type: "boolean", default: false },
    "drain-seconds": { type: "string", default: "10" },
    /** Profile redeliveries after the first (answered from the KV hint) instead of first redeliveries. */
    "kv-hit": { type: "boolean", default: false },
    /** Also writes the whole profile there (a .cpuprofile file Chrome DevTools opens). */
    out: { type: "string" },
  },
});

async function main(): Promise<void> {
  const targets = (await (await fetch(`${values.inspector}/json`)).json()) as Array<{ webSocketDebuggerUrl: string }>;
  const socket = new WebSocket(targets[0]?.webSocketDebuggerUrl ?? "");
  await new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject));
  let id = 0;
  const call = (method: string, params: object = {}) =>
    new Promise<Record<string, unknown>>((resolve) => {
      const my = ++id;
      const onMessage = (data: WebSocket.RawData) => {
        const message = JSON.parse(data.toString()) as { id?: number; result?: Record<string, unknown> };
        if (message.id === my) {
          socket.off("message", onMessage);
          resolve(message.result ?? {});
        }
      };
      socket.on("message", onMessage);
      socket.send(JSON.stringify({ id: my, method, params }));
    });

  const url = `${values.url}/webhooks/portone/payment-link`;
  const bodies = await newEvents(`prof${Date.now().toString(36)}`, Number(values.requests), Number(values.requests));
  if (!values.new) await load(url, bodies, 16, NO_CPU); // record them once: what follows are redeliveries
  if (!values.new && values["kv-hit"]) await load(url, bodies, 16, NO_CPU); // the first writes the KV hint
  await call("Profiler.enable");
  await call("Profiler.setSamplingInterval", { interval: 100 });
  await call("Profiler.start");
  const result = await load(url, bodies, 16, NO_CPU);
  if (values.new) await new Promise((r) => setTimeout(r, Number(values["drain-seconds"]) * 1000));
  const { profile } = (await call("Profiler.stop")) as unknown as { profile: Profile };
  socket.close();
  if (values.out) writeFileSync(values.out, JSON.stringify(profile));

  const byNode = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((nodeId, i) => {
    const node = byNode.get(nodeId);
    const dt = profile.timeDeltas[i] ?? 0;
    total += dt;
    if (!node) return;
    const file = node.callFrame.url.split("/").slice(-2).join("/");
    const key = `${node.callFrame.functionName || "(anonymous)"} ${file}:${node.callFrame.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + dt);
  });
  const what = values.new
    ? "new events (with their forwarding)"
    : values["kv-hit"]
      ? "redeliveries answered from the KV hint"
      : "first redeliveries";
  console.log(`${result.requests} ${what} at ${result.rps} rps; top self time in the Worker's isolate:`);
  for (const [key, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25)) {
    console.log(`${((us / total) * 100).toFixed(1).padStart(5)} %  ${key}`);
  }
}

await main();
